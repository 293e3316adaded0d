-- tests/hostile_cases/table_move.lua: table.move over 2^50 empty slots, one C loop.
-- expect: table.move
table.move({}, 1, 1 << 50, 2)
