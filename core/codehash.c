/* core/codehash.c: the code hash of a variant (its machine code, normalised, plus the build's
 * flags), so that "same code, different time" can be told from a real change.
 *
 * Design notes:
 *   1. The unit is a source file: its functions are the FUNC symbols between its STT_FILE entry
 *      and the next one in .symtab (static functions, .isra/.constprop clones and .cold parts
 *      land there). A global run function has no file group, so only its own code is hashed.
 *   2. The function is found through dladdr's load base (runtime address to link-time address);
 *      its bytes are read from the binary's file, which for code and read-only data is what runs.
 *   3. x86-64 code holds PC-relative offsets that change when unrelated code or data moves:
 *      call/jmp/jcc rel32 and RIP-relative operands. A small length decoder walks the function
 *      instruction by instruction; where such an offset leaves the function and lands on a known
 *      function, object, PLT stub or read-only constant, it is replaced by a token for the target
 *      (name + offset, or the constant's bytes). Offsets inside the function are position-
 *      independent and hashed as they are. Bytes the decoder does not know, and every function
 *      on other ISAs, are hashed raw: that errs towards "changed", never towards "same".
 *   4. A variant whose behaviour an environment variable selects (v->identity_env: the synthetic
 *      slowdown of the detection-power study) has that variable's value hashed too: for the
 *      statistics the setting is a code change.
 * SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "codehash.h"

#include <dlfcn.h>
#include <link.h>
#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

/* The build's flags. CMake may pass them as MC_C_FLAGS; otherwise the predefined macros show
 * the ones that change code generation. */
#if defined(__OPTIMIZE_SIZE__)
#define MC_FLAG_OPT "-Os"
#elif defined(__OPTIMIZE__)
#define MC_FLAG_OPT "-O(1+)"
#else
#define MC_FLAG_OPT "-O0"
#endif
#ifdef NDEBUG
#define MC_FLAG_NDEBUG " -DNDEBUG"
#else
#define MC_FLAG_NDEBUG ""
#endif
#ifdef __SANITIZE_ADDRESS__
#define MC_FLAG_ASAN " -fsanitize=address"
#else
#define MC_FLAG_ASAN ""
#endif
#ifdef __AVX2__
#define MC_FLAG_AVX2 " -mavx2"
#else
#define MC_FLAG_AVX2 ""
#endif
#ifdef __FAST_MATH__
#define MC_FLAG_FAST_MATH " -ffast-math"
#else
#define MC_FLAG_FAST_MATH ""
#endif
#ifdef __PIE__
#define MC_FLAG_PIE " -fPIE"
#else
#define MC_FLAG_PIE ""
#endif

void mc_build_flags(char *out, size_t cap)
{
#ifdef MC_C_FLAGS
    copy_text(out, cap, MC_C_FLAGS);
#else
    copy_text(out, cap, MC_FLAG_OPT MC_FLAG_NDEBUG MC_FLAG_ASAN MC_FLAG_AVX2 MC_FLAG_FAST_MATH MC_FLAG_PIE);
#endif
}

bool mc_code_hash_is_real(const char *hash)
{
    return hash && strlen(hash) == MC_HASH_LEN - 1 && strspn(hash, "0123456789abcdef") == MC_HASH_LEN - 1;
}

/* ---- code hash: the ELF image ---- */

typedef struct sym {
    uint64_t addr, size; /* link-time address */
    const char *name;
    unsigned char type, bind;
    int index; /* position in .symtab */
} sym;

typedef struct section {
    uint64_t addr, size, flags;
    uint32_t type;
    const char *name;
    uint64_t offset; /* in the file */
} section;

typedef struct elf_image {
    char path[512];
    bool pie;
    uintptr_t base;      /* runtime address minus link-time address */
    char *strtab, *shstrtab;
    Elf64_Sym *symtab;
    size_t n_syms;
    size_t first_global; /* .symtab's sh_info */
    section *sections;
    size_t n_sections;
    sym *funcs, *objects; /* sorted by address */
    size_t n_funcs, n_objects;
    const unsigned char *map; /* the whole file, read-only: code and constants are read from it */
    size_t map_len;
} elf_image;

static void image_free(elf_image *im)
{
    if (!im)
        return;
    free(im->strtab);
    free(im->shstrtab);
    free(im->symtab);
    free(im->sections);
    free(im->funcs);
    free(im->objects);
    if (im->map)
        munmap((void *)im->map, im->map_len);
    free(im);
}

static void *read_at(int fd, uint64_t off, uint64_t len)
{
    if (len > (1ull << 30))
        return NULL;
    char *p = malloc(len + 1);
    if (!p)
        return NULL;
    if (pread(fd, p, len, (off_t)off) != (ssize_t)len) {
        free(p);
        return NULL;
    }
    p[len] = '\0';
    return p;
}

static int compare_sym_addr(const void *a, const void *b)
{
    const sym *x = a, *y = b;
    return (x->addr > y->addr) - (x->addr < y->addr);
}

/* Loads the section table and the symbol table; NULL when there is no .symtab (stripped). */
static elf_image *image_load(const char *path, uintptr_t fbase)
{
    elf_image *im = calloc(1, sizeof *im);
    Elf64_Shdr *sh = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (!im || fd < 0)
        goto fail;
    copy_text(im->path, sizeof im->path, path);
    Elf64_Ehdr eh;
    if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0)
        goto fail;
    im->pie = eh.e_type == ET_DYN;
    im->base = im->pie ? fbase : 0;
    struct stat stbuf;
    if (fstat(fd, &stbuf) != 0 || stbuf.st_size <= 0)
        goto fail;
    void *map = mmap(NULL, (size_t)stbuf.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED)
        goto fail;
    im->map = map;
    im->map_len = (size_t)stbuf.st_size;
    sh = read_at(fd, eh.e_shoff, (uint64_t)eh.e_shnum * sizeof *sh);
    if (!sh || eh.e_shstrndx >= eh.e_shnum)
        goto fail;
    im->shstrtab = read_at(fd, sh[eh.e_shstrndx].sh_offset, sh[eh.e_shstrndx].sh_size);
    im->sections = calloc(eh.e_shnum, sizeof *im->sections);
    if (!im->shstrtab || !im->sections)
        goto fail;
    const Elf64_Shdr *symsh = NULL;
    for (size_t i = 0; i < eh.e_shnum; i++) {
        if (sh[i].sh_type == SHT_SYMTAB)
            symsh = &sh[i];
        if (!(sh[i].sh_flags & SHF_ALLOC) || sh[i].sh_name >= sh[eh.e_shstrndx].sh_size)
            continue;
        im->sections[im->n_sections++] = (section){sh[i].sh_addr, sh[i].sh_size, sh[i].sh_flags, sh[i].sh_type,
                                                   im->shstrtab + sh[i].sh_name, sh[i].sh_offset};
    }
    if (!symsh || symsh->sh_link >= eh.e_shnum || symsh->sh_entsize != sizeof(Elf64_Sym))
        goto fail;
    im->symtab = read_at(fd, symsh->sh_offset, symsh->sh_size);
    im->strtab = read_at(fd, sh[symsh->sh_link].sh_offset, sh[symsh->sh_link].sh_size);
    if (!im->symtab || !im->strtab)
        goto fail;
    im->n_syms = symsh->sh_size / sizeof(Elf64_Sym);
    im->first_global = symsh->sh_info;
    size_t strsize = sh[symsh->sh_link].sh_size;
    im->funcs = calloc(im->n_syms, sizeof *im->funcs);
    im->objects = calloc(im->n_syms, sizeof *im->objects);
    if (!im->funcs || !im->objects)
        goto fail;
    for (size_t i = 0; i < im->n_syms; i++) {
        const Elf64_Sym *s = &im->symtab[i];
        unsigned type = ELF64_ST_TYPE(s->st_info);
        if (s->st_shndx == SHN_UNDEF || s->st_name >= strsize || (type != STT_FUNC && type != STT_OBJECT))
            continue;
        sym e = {s->st_value, s->st_size, im->strtab + s->st_name, (unsigned char)type,
                 (unsigned char)ELF64_ST_BIND(s->st_info), (int)i};
        if (type == STT_FUNC)
            im->funcs[im->n_funcs++] = e;
        else
            im->objects[im->n_objects++] = e;
    }
    qsort(im->funcs, im->n_funcs, sizeof *im->funcs, compare_sym_addr);
    qsort(im->objects, im->n_objects, sizeof *im->objects, compare_sym_addr);
    free(sh);
    close(fd);
    return im;
fail:
    free(sh);
    if (fd >= 0)
        close(fd);
    image_free(im);
    return NULL;
}

/* The symbol of list (sorted by address) that contains addr, or NULL. */
static const sym *containing(const sym *list, size_t n, uint64_t addr)
{
    size_t lo = 0, hi = n;
    while (lo < hi) { /* first entry with addr > target */
        size_t mid = (lo + hi) / 2;
        if (list[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i-- > 0;) {
        if (list[i].addr + (list[i].size ? list[i].size : 1) > addr)
            return &list[i];
        if (lo - i > 8) /* aliases share an address; look back a little, not forever */
            break;
    }
    return NULL;
}

static const section *section_of(const elf_image *im, uint64_t addr)
{
    for (size_t i = 0; i < im->n_sections; i++)
        if (addr >= im->sections[i].addr && addr < im->sections[i].addr + im->sections[i].size &&
            im->sections[i].type != SHT_NOTE)
            return &im->sections[i];
    return NULL;
}

/* The file bytes behind [addr, addr + len), or NULL when they are not all in one section with
 * contents. Reading the file rather than memory sees exactly what was linked, and never trips a
 * sanitizer's poisoned redzone around a global. */
static const unsigned char *bytes_at(const elf_image *im, uint64_t addr, uint64_t len)
{
    const section *sec = section_of(im, addr);
    if (!sec || sec->type == SHT_NOBITS || addr + len > sec->addr + sec->size)
        return NULL;
    uint64_t off = sec->offset + (addr - sec->addr);
    if (off + len > im->map_len)
        return NULL;
    return im->map + off;
}

/* ---- code hash: normalising and hashing ---- */

typedef struct hasher {
    uint64_t h;
} hasher;

static void feed(hasher *hs, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        hs->h ^= b[i];
        hs->h *= 1099511628211ull;
    }
}

static void feed_str(hasher *hs, const char *s)
{
    feed(hs, s, strlen(s) + 1);
}

static int32_t read_i32(const unsigned char *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* A branch target outside the current function: a token naming it, or false to hash raw bytes. */
static bool feed_branch_target(hasher *hs, const elf_image *im, uint64_t target)
{
    const sym *f = containing(im->funcs, im->n_funcs, target);
    if (f) {
        feed(hs, "F", 1);
        feed_str(hs, f->name);
        uint64_t off = target - f->addr;
        feed(hs, &off, sizeof off);
        return true;
    }
    const section *sec = section_of(im, target);
    if (sec && (sec->flags & SHF_EXECINSTR)) {
        feed(hs, "S", 1); /* a PLT stub or another stub section: the section, not its layout */
        feed_str(hs, sec->name);
        return true;
    }
    return false;
}

/* A RIP-relative data target: the object's name and offset, a constant's bytes, or the section. */
static bool feed_data_target(hasher *hs, const elf_image *im, uint64_t target)
{
    const section *sec = section_of(im, target);
    if (!sec || (sec->flags & SHF_EXECINSTR))
        return false;
    const sym *o = containing(im->objects, im->n_objects, target);
    feed(hs, "D", 1);
    bool read_only = sec->type == SHT_PROGBITS && !(sec->flags & SHF_WRITE);
    if (o) {
        feed_str(hs, o->name);
        uint64_t off = target - o->addr;
        feed(hs, &off, sizeof off);
        const unsigned char *table = read_only && o->size <= 65536 ? bytes_at(im, o->addr, o->size) : NULL;
        if (table) /* a const table: its values are part of the code */
            feed(hs, table, (size_t)o->size);
    } else if (read_only) {
        uint64_t n = sec->addr + sec->size - target;
        if (n > 16)
            n = 16;
        const unsigned char *constant = bytes_at(im, target, n);
        if (constant)
            feed(hs, constant, (size_t)n); /* the constant itself */
    } else {
        feed_str(hs, sec->name);
    }
    return true;
}

/* ---- code hash: an x86-64 instruction length decoder ----
 * Just enough of the encoding to walk a compiler's output instruction by instruction and find
 * the two position-dependent fields: a rel32 branch target and a RIP-relative disp32. */

typedef struct x86_insn {
    int len;      /* bytes, 0 when the bytes are not an instruction this decoder knows */
    int rel32_at; /* offset of a call/jmp/jcc rel32, or -1 */
    int disp_at;  /* offset of a [rip + disp32], or -1 */
} x86_insn;

/* One-byte opcode map: bit 0 has ModRM; bits 1-3 immediate kind (see imm_bytes); 0xFF invalid. */
enum { M = 1, I8 = 2, IZ = 4, I16 = 6, IMOFF = 8, IV = 10, I16_8 = 12, BAD = 0xFF };
static const unsigned char x86_map1[256] = {
    /* 00 */ M, M, M, M, I8, IZ, BAD, BAD, M, M, M, M, I8, IZ, BAD, 0,
    /* 10 */ M, M, M, M, I8, IZ, BAD, BAD, M, M, M, M, I8, IZ, BAD, BAD,
    /* 20 */ M, M, M, M, I8, IZ, 0, BAD, M, M, M, M, I8, IZ, 0, BAD,
    /* 30 */ M, M, M, M, I8, IZ, 0, BAD, M, M, M, M, I8, IZ, 0, BAD,
    /* 40 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 50 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 60 */ BAD, BAD, BAD, M, 0, 0, 0, 0, IZ, M | IZ, I8, M | I8, 0, 0, 0, 0,
    /* 70 */ I8, I8, I8, I8, I8, I8, I8, I8, I8, I8, I8, I8, I8, I8, I8, I8,
    /* 80 */ M | I8, M | IZ, BAD, M | I8, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 90 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, BAD, 0, 0, 0, 0, 0,
    /* A0 */ IMOFF, IMOFF, IMOFF, IMOFF, 0, 0, 0, 0, I8, IZ, 0, 0, 0, 0, 0, 0,
    /* B0 */ I8, I8, I8, I8, I8, I8, I8, I8, IV, IV, IV, IV, IV, IV, IV, IV,
    /* C0 */ M | I8, M | I8, I16, 0, BAD, BAD, M | I8, M | IZ, I16_8, 0, I16, 0, 0, I8, BAD, 0,
    /* D0 */ M, M, M, M, BAD, BAD, BAD, 0, M, M, M, M, M, M, M, M,
    /* E0 */ I8, I8, I8, I8, I8, I8, I8, I8, IZ, IZ, BAD, I8, 0, 0, 0, 0,
    /* F0 */ 0, 0, 0, 0, 0, 0, M, M, 0, 0, 0, 0, 0, 0, M, M,
};

static int imm_bytes(int kind, bool opsize16, bool rex_w, bool addr32)
{
    switch (kind) {
    case I8: return 1;
    case IZ: return opsize16 ? 2 : 4;
    case I16: return 2;
    case IMOFF: return addr32 ? 4 : 8;
    case IV: return rex_w ? 8 : opsize16 ? 2 : 4;
    case I16_8: return 3;
    default: return 0;
    }
}

/* Length of ModRM + SIB + displacement at p; *rip when it is [rip + disp32]. 0 if cut short. */
static int modrm_bytes(const unsigned char *p, size_t avail, bool *rip)
{
    if (avail < 1)
        return 0;
    int mod = p[0] >> 6, rm = p[0] & 7, n = 1;
    *rip = mod == 0 && rm == 5;
    if (mod != 3 && rm == 4) {
        if (avail < 2)
            return 0;
        n++;
        if (mod == 0 && (p[1] & 7) == 5)
            n += 4;
    }
    n += mod == 1 ? 1 : mod == 2 ? 4 : *rip ? 4 : 0;
    return (size_t)n <= avail ? n : 0;
}

/* Two-byte map (0F xx): immediates and the few opcodes without ModRM. */
static void map2_shape(unsigned op, bool *has_modrm, int *imm, bool *rel32)
{
    *has_modrm = true;
    *imm = 0;
    *rel32 = false;
    if ((op >= 0x80 && op <= 0x8F)) {
        *has_modrm = false;
        *rel32 = true;
    } else if (op == 0x05 || op == 0x06 || op == 0x07 || op == 0x08 || op == 0x09 || op == 0x0B || op == 0x0E ||
               op == 0x30 || op == 0x31 || op == 0x32 || op == 0x33 || op == 0x34 || op == 0x35 || op == 0x37 ||
               op == 0x77 || op == 0xA0 || op == 0xA1 || op == 0xA2 || op == 0xA8 || op == 0xA9 || op == 0xAA ||
               (op >= 0xC8 && op <= 0xCF)) {
        *has_modrm = false;
    } else if ((op >= 0x70 && op <= 0x73) || op == 0xA4 || op == 0xAC || op == 0xBA || op == 0xC2 ||
               (op >= 0xC4 && op <= 0xC6)) {
        *imm = 1;
    }
}

static bool is_legacy_prefix(unsigned char b)
{
    switch (b) {
    case 0xF0: case 0xF2: case 0xF3:                                  /* lock, repne, rep */
    case 0x2E: case 0x36: case 0x3E: case 0x26: case 0x64: case 0x65: /* segments */
    case 0x66: case 0x67:                                             /* operand, address size */
        return true;
    default:
        return false;
    }
}

static void x86_decode(const unsigned char *p, size_t avail, x86_insn *out)
{
    *out = (x86_insn){0, -1, -1};
    size_t i = 0;
    bool opsize16 = false, addr32 = false, rex_w = false;
    /* legacy prefixes, then an optional REX */
    while (i < avail && i < 14 && is_legacy_prefix(p[i])) {
        opsize16 |= p[i] == 0x66;
        addr32 |= p[i] == 0x67;
        i++;
    }
    if (i < avail && (p[i] & 0xF0) == 0x40) {
        rex_w = (p[i] & 0x08) != 0;
        i++;
    }
    if (i >= avail)
        return;
    unsigned op = p[i++];
    bool has_modrm = false, rel32 = false, rip = false;
    int imm = 0;
    if (op == 0xC4 || op == 0xC5 || op == 0x62) {
        /* VEX (3 or 2 bytes) and EVEX (4 bytes): map from the prefix, then opcode and ModRM */
        int extra = op == 0xC5 ? 1 : op == 0xC4 ? 2 : 3;
        if (i + (size_t)extra + 1 > avail)
            return;
        int map = op == 0xC5 ? 1 : (p[i] & (op == 0x62 ? 0x07 : 0x1F));
        i += (size_t)extra;
        unsigned vop = p[i++];
        if (map == 1)
            map2_shape(vop, &has_modrm, &imm, &rel32);
        else if (map == 2 || map == 3)
            has_modrm = true, imm = map == 3;
        else
            return;
        if (rel32)
            return; /* no VEX branches exist */
        if (map == 1 && vop == 0x77)
            has_modrm = false; /* vzeroupper / vzeroall */
    } else if (op == 0x0F) {
        if (i >= avail)
            return;
        unsigned op2 = p[i++];
        if (op2 == 0x38 || op2 == 0x3A) {
            if (i >= avail)
                return;
            i++;
            has_modrm = true;
            imm = op2 == 0x3A;
        } else {
            map2_shape(op2, &has_modrm, &imm, &rel32);
        }
    } else {
        unsigned char shape = x86_map1[op];
        if (shape == BAD)
            return;
        has_modrm = shape & M;
        imm = imm_bytes(shape & 0x0E, opsize16, rex_w, addr32);
        rel32 = op == 0xE8 || op == 0xE9;
        if (op == 0xF6 || op == 0xF7) { /* test r/m, imm: only for reg field 0 and 1 */
            if (i >= avail)
                return;
            int reg = (p[i] >> 3) & 7;
            imm = reg < 2 ? (op == 0xF6 ? 1 : opsize16 ? 2 : 4) : 0;
        }
    }
    if (has_modrm) {
        int n = modrm_bytes(p + i, avail - i, &rip);
        if (!n)
            return;
        if (rip)
            out->disp_at = (int)i + 1;
        i += (size_t)n;
    }
    if (rel32) {
        out->rel32_at = (int)i;
        imm = 4;
    }
    if (i + (size_t)imm > avail)
        return;
    out->len = (int)(i + (size_t)imm);
}

/* False when the function's bytes are not in the file (then nothing honest can be hashed). */
static bool hash_function(hasher *hs, const elf_image *im, const sym *f)
{
    const unsigned char *code = bytes_at(im, f->addr, f->size);
    uint64_t n = f->size;
    if (!code)
        return false;
    feed_str(hs, f->name);
#if defined(__x86_64__)
    for (uint64_t i = 0; i < n;) {
        x86_insn in;
        x86_decode(code + i, (size_t)(n - i), &in);
        if (in.len == 0) {
            /* not an instruction we know: hash the rest as it is (errs towards "changed") */
            feed(hs, "?", 1);
            feed(hs, code + i, (size_t)(n - i));
            return true;
        }
        uint64_t next = f->addr + i + (uint64_t)in.len;
        bool tokenised = false;
        if (in.rel32_at >= 0) {
            uint64_t target = next + (uint64_t)(int64_t)read_i32(code + i + in.rel32_at);
            bool inside = target >= f->addr && target < f->addr + n;
            if (!inside && feed_branch_target(hs, im, target)) {
                feed(hs, code + i, (size_t)in.rel32_at);
                tokenised = true;
            }
        } else if (in.disp_at >= 0) {
            uint64_t target = next + (uint64_t)(int64_t)read_i32(code + i + in.disp_at);
            bool inside = target >= f->addr && target < f->addr + n;
            if (!inside && (feed_data_target(hs, im, target) || feed_branch_target(hs, im, target))) {
                feed(hs, code + i, (size_t)in.disp_at);
                feed(hs, code + i + in.disp_at + 4, (size_t)(in.len - in.disp_at - 4));
                tokenised = true;
            }
        }
        if (!tokenised)
            feed(hs, code + i, (size_t)in.len);
        i += (uint64_t)in.len;
    }
#else
    feed(hs, code, (size_t)n); /* no decoder for this ISA: raw bytes, so any move reads as a change */
#endif
    return true;
}

static int compare_sym_name(const void *a, const void *b)
{
    const sym *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->addr > y->addr) - (x->addr < y->addr);
}

static elf_image *cached_image; /* the last binary parsed: every variant usually lives in one */

typedef struct object_query {
    uintptr_t addr;
    char path[512];
    bool found;
} object_query;

/* dl_iterate_phdr callback: is q->addr inside one of this object's loaded segments? */
static int find_object(struct dl_phdr_info *info, size_t size, void *user)
{
    (void)size;
    object_query *q = user;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && q->addr >= start && q->addr < start + ph->p_memsz) {
            /* the main program has an empty name; /proc/self/exe opens it wherever it lies */
            copy_text(q->path, sizeof q->path, info->dlpi_name[0] ? info->dlpi_name : "/proc/self/exe");
            q->found = true;
            return 1;
        }
    }
    return 0;
}

static const elf_image *image_for(const void *addr)
{
    /* dladdr gives the load base (0 for a non-PIE program, the PIE's load address otherwise);
     * dl_iterate_phdr names the file, which dladdr cannot do reliably for the main program */
    Dl_info info;
    object_query q = {.addr = (uintptr_t)addr};
    if (!dladdr(addr, &info) || !info.dli_fbase)
        return NULL;
    dl_iterate_phdr(find_object, &q);
    if (!q.found)
        return NULL;
    if (cached_image && strcmp(cached_image->path, q.path) == 0 &&
        (!cached_image->pie || cached_image->base == (uintptr_t)info.dli_fbase))
        return cached_image;
    elf_image *im = image_load(q.path, (uintptr_t)info.dli_fbase);
    if (!im)
        return NULL;
    image_free(cached_image);
    cached_image = im;
    return im;
}

void mc_variant_code_hash(const mc_variant *v, char out[MC_HASH_LEN])
{
    if (v->code_hash) { /* computed where the code is loaded (a plugin's child) */
        copy_text(out, MC_HASH_LEN, v->code_hash);
        return;
    }
    copy_text(out, MC_HASH_LEN, MC_HASH_UNHASHABLE);
    const void *fn = v->code ? v->code : (const void *)v->run;
    if (!fn)
        return;
    const elf_image *im = image_for(fn);
    if (!im)
        return;
    uint64_t addr = (uint64_t)(uintptr_t)fn - im->base;
    const sym *f = containing(im->funcs, im->n_funcs, addr);
    if (!f || f->addr != addr || f->size == 0)
        return;
    hasher hs = {1469598103934665603ull};
    char flags[256];
    mc_build_flags(flags, sizeof flags);
    feed_str(&hs, flags);
    if (!hash_function(&hs, im, f))
        return;
    const char *setting = v->identity_env ? getenv(v->identity_env) : NULL;
    if (setting && *setting) { /* note 4: unset or empty is the variant's default behaviour */
        feed_str(&hs, v->identity_env);
        feed_str(&hs, setting);
    }
    if (f->bind == STB_LOCAL) {
        /* the file group: back to its STT_FILE entry, forward to the next one or the globals */
        size_t lo = (size_t)f->index, hi = (size_t)f->index + 1;
        while (lo > 0 && ELF64_ST_TYPE(im->symtab[lo].st_info) != STT_FILE)
            lo--;
        while (hi < im->first_global && ELF64_ST_TYPE(im->symtab[hi].st_info) != STT_FILE)
            hi++;
        sym *group = malloc((hi - lo) * sizeof *group);
        size_t count = 0;
        for (size_t i = 0; group && i < im->n_funcs; i++)
            if ((size_t)im->funcs[i].index > lo && (size_t)im->funcs[i].index < hi &&
                im->funcs[i].index != f->index && im->funcs[i].size > 0)
                group[count++] = im->funcs[i];
        if (!group)
            return; /* out of memory: stay "unhashable" rather than hash half the file */
        qsort(group, count, sizeof *group, compare_sym_name);
        bool whole = true;
        for (size_t i = 0; i < count && whole; i++)
            whole = hash_function(&hs, im, &group[i]);
        free(group);
        if (!whole)
            return;
    }
    snprintf(out, MC_HASH_LEN, "%016" PRIx64, hs.h);
}
