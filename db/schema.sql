-- db/schema.sql: the results store's schema at PRAGMA user_version 4, for people and the sqlite3 shell.
-- db/store.c applies the same statements as its migrations, in order (tests/test_store.c checks they match).
-- SPDX-License-Identifier: MIT
--
-- Identity rules: a case is its canonical key (renaming a label never breaks history); a variant
-- is (backend, name, code hash), so a rebuilt kernel is a new row; a run is its uuid, so merged
-- shard databases never duplicate runs. The case table is called test_case because CASE is an SQL
-- keyword. Samples are IEEE-754 binary64 values, little-endian, in ns per call, in the order taken.

CREATE TABLE machine (
    id          INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,
    cpu_model   TEXT NOT NULL,
    cpu_flags   TEXT NOT NULL,
    cores       INTEGER NOT NULL,
    os          TEXT NOT NULL,
    compiler    TEXT NOT NULL,
    cflags      TEXT NOT NULL,
    devices     TEXT NOT NULL,
    first_seen  TEXT NOT NULL
);

CREATE TABLE run (
    id           INTEGER PRIMARY KEY,
    uuid         TEXT NOT NULL UNIQUE,
    machine_id   INTEGER NOT NULL REFERENCES machine(id),
    commit_sha   TEXT NOT NULL,
    dirty        INTEGER NOT NULL,
    branch       TEXT NOT NULL,
    parent_sha   TEXT NOT NULL,
    tier         TEXT NOT NULL,
    command_line TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    seed         INTEGER NOT NULL,
    mode         TEXT NOT NULL CHECK (mode IN ('independent', 'paired')),
    paired_with  INTEGER REFERENCES run(id) ON DELETE SET NULL,
    shard        TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    ended_at     TEXT,
    status       TEXT NOT NULL DEFAULT 'incomplete'
                 CHECK (status IN ('incomplete', 'passed', 'failed', 'nothing', 'aborted'))
);
CREATE INDEX run_commit ON run(commit_sha);
CREATE INDEX run_machine ON run(machine_id, started_at);

CREATE TABLE test_case (
    id     INTEGER PRIMARY KEY,
    key    TEXT NOT NULL UNIQUE,
    op     TEXT NOT NULL,
    params TEXT NOT NULL
);

CREATE TABLE variant (
    id        INTEGER PRIMARY KEY,
    backend   TEXT NOT NULL,
    name      TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    UNIQUE (backend, name, code_hash)
);

CREATE TABLE result (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
    case_id     INTEGER NOT NULL REFERENCES test_case(id),
    variant_id  INTEGER NOT NULL REFERENCES variant(id),
    kind        TEXT NOT NULL,
    ran         TEXT NOT NULL,
    n_checked   INTEGER NOT NULL,
    n_bad       INTEGER NOT NULL,
    worst_index INTEGER NOT NULL,
    worst_out   REAL,
    worst_ref   REAL,
    worst_err   REAL,
    worst_bound REAL,
    max_ratio   REAL,
    nmse        REAL,
    signal      INTEGER NOT NULL,
    elapsed_ms  REAL NOT NULL,
    message     TEXT NOT NULL,
    UNIQUE (run_id, case_id, variant_id)
);
CREATE INDEX result_case ON result(case_id, variant_id);

CREATE TABLE timing (
    result_id        INTEGER PRIMARY KEY REFERENCES result(id) ON DELETE CASCADE,
    n                INTEGER NOT NULL,
    calls_per_sample INTEGER NOT NULL,
    min_ns           REAL NOT NULL,
    median_ns        REAL NOT NULL,
    mad_ns           REAL NOT NULL,
    ci_lo_ns         REAL,
    ci_hi_ns         REAL,
    gflops           REAL NOT NULL,
    gbs              REAL NOT NULL,
    cpu_mhz          REAL NOT NULL,
    loadavg          REAL NOT NULL,
    resolution_ns    REAL NOT NULL,
    converged        INTEGER NOT NULL,
    samples          BLOB NOT NULL CHECK (length(samples) = 8 * n)
);

CREATE TABLE verdict (
    id              INTEGER PRIMARY KEY,
    base_run_id     INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
    cand_run_id     INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
    case_id         INTEGER NOT NULL REFERENCES test_case(id),
    base_variant_id INTEGER NOT NULL REFERENCES variant(id),
    cand_variant_id INTEGER NOT NULL REFERENCES variant(id),
    method          TEXT NOT NULL CHECK (method IN ('mann-whitney', 'paired')),
    ratio           REAL NOT NULL,
    ci_lo           REAL,
    ci_hi           REAL,
    p               REAL NOT NULL,
    q               REAL NOT NULL,
    threshold       REAL NOT NULL,
    verdict         TEXT NOT NULL CHECK (verdict IN ('faster', 'slower', 'same', 'ambiguous')),
    label           TEXT NOT NULL,
    same_code       INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    UNIQUE (base_run_id, cand_run_id, case_id, cand_variant_id)
);

CREATE TABLE machine_peak (
    machine_id  INTEGER NOT NULL REFERENCES machine(id),
    name        TEXT NOT NULL,
    value       REAL NOT NULL,
    unit        TEXT NOT NULL,
    measured_at TEXT NOT NULL,
    PRIMARY KEY (machine_id, name)
);

CREATE TABLE tuning (
    id          INTEGER PRIMARY KEY,
    machine_id  INTEGER NOT NULL REFERENCES machine(id),
    run_id      INTEGER REFERENCES run(id) ON DELETE SET NULL,
    op          TEXT NOT NULL,
    shape_key   TEXT NOT NULL,
    config      TEXT NOT NULL,
    median_ns   REAL NOT NULL,
    gflops      REAL NOT NULL,
    measured_at TEXT NOT NULL,
    UNIQUE (machine_id, op, shape_key, config)
);

CREATE TABLE mutation_score (
    run_id INTEGER PRIMARY KEY REFERENCES run(id) ON DELETE CASCADE,
    caught INTEGER NOT NULL,
    total  INTEGER NOT NULL,
    CHECK (caught >= 0 AND caught <= total)
);

-- migration 2: the tail of what the worker printed on stdout and stderr during the case
ALTER TABLE result ADD COLUMN output TEXT NOT NULL DEFAULT '';

-- migration 3: the run's selection as its command asked (NULL: a run recorded before, whose
-- command_line says it)
ALTER TABLE run ADD COLUMN sel_tier TEXT;
ALTER TABLE run ADD COLUMN sel_cases TEXT;
ALTER TABLE run ADD COLUMN sel_cases_dir TEXT;
ALTER TABLE run ADD COLUMN sel_backends TEXT;
ALTER TABLE run ADD COLUMN sel_op TEXT;
ALTER TABLE run ADD COLUMN sel_filter TEXT;
ALTER TABLE run ADD COLUMN sel_variants TEXT;

-- migration 4: what each timing's timer measured (its definition, '' for a timing stored before),
-- and for device backends the device's copy roof (and that of a copy of the case's own size, timed
-- alike, where the case is smaller than the roof's copy), lowest SM and memory clocks, highest temperature,
-- the timed batches, how many of them were throttled and the throttle reason bits seen (NULL for
-- host timings and timings stored before)
ALTER TABLE timing ADD COLUMN timer TEXT NOT NULL DEFAULT '';
ALTER TABLE timing ADD COLUMN device_roof_gbs REAL;
ALTER TABLE timing ADD COLUMN device_ws_roof_gbs REAL;
ALTER TABLE timing ADD COLUMN device_sm_mhz REAL;
ALTER TABLE timing ADD COLUMN device_mem_mhz REAL;
ALTER TABLE timing ADD COLUMN device_temp_c REAL;
ALTER TABLE timing ADD COLUMN device_batches INTEGER;
ALTER TABLE timing ADD COLUMN device_throttled INTEGER;
ALTER TABLE timing ADD COLUMN device_throttle_reasons INTEGER;

PRAGMA user_version = 4;
