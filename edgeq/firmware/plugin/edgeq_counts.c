/*
 * edgeq_counts.c -- a QEMU TCG plugin: how often each translated block ran, per engine op.
 *
 * edgeq builds it with the host C compiler and loads it into qemu-system-arm
 * (-plugin edgeq_counts.so,out=PATH,begin=ADDR,end=ADDR,calls=N; end may be given up to 8
 * times, for code that is left at several places). It uses only
 * QEMU's documented plugin API (version 1, as in QEMU 7.2), declared below, so it
 * needs no QEMU headers.
 *
 * The firmware's engine calls eq_op_begin() before and eq_op_end() after each of
 * its N kernel calls. Whenever the block at ADDR begin runs, the plugin moves to
 * the next call's bucket (calls seen so far mod N); at ADDR end it moves back to
 * bucket -1 (everything outside the engine's kernel calls). Each block counts
 * its executions per bucket, and how many of them left the block by a taken
 * branch (the next block did not start where this one ends).
 *
 * Written to PATH when QEMU exits:
 *   calls C                       eq_op_begin calls seen
 *   block ID ADDR ADDR ...        every translated block: its instructions' addresses (hex)
 *   count BUCKET ID RUNS TAKEN    executions of block ID in BUCKET and how many ended in a taken branch
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
struct qemu_info_t;

#define EXPORT __attribute__((visibility("default")))
EXPORT int qemu_plugin_version = 1;

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, void (*cb)(qemu_plugin_id_t, struct qemu_plugin_tb *));
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, void (*cb)(unsigned int, void *), int flags,
                                          void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, void (*cb)(qemu_plugin_id_t, void *), void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);

enum role { ROLE_NONE, ROLE_BEGIN, ROLE_END };

struct block {
    uint32_t id;
    uint32_t n;
    uint64_t start;
    uint64_t end; /* address just past the last instruction */
    enum role role;
    uint64_t *addrs;
};

struct cell {
    uint64_t key; /* (bucket + 1) << 32 | block id; 0 = empty slot, so ids start at 1 */
    uint64_t runs;
    uint64_t taken;
};

static const char *out_path;
#define MAX_ENDS 8
static uint64_t begin_addr = UINT64_MAX, end_addrs[MAX_ENDS], n_calls = 1, calls_seen;
static int n_ends;
static int64_t bucket = -1;
static struct block **blocks;
static size_t n_blocks, cap_blocks;
static struct cell *cells;
static size_t n_cells, cap_cells;
static struct cell *last_cell;
static uint64_t last_end;

static void die(const char *what) {
    fprintf(stderr, "edgeq_counts: %s\n", what);
    exit(1);
}

static size_t slot(uint64_t key, size_t cap) {
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 17) & (cap - 1);
}

static void grow_cells(void) {
    size_t cap = cap_cells ? cap_cells * 2 : 4096, i;
    struct cell *fresh = calloc(cap, sizeof *fresh);
    if (fresh == NULL)
        die("out of memory");
    for (i = 0; i < cap_cells; ++i) {
        if (cells[i].key != 0) {
            size_t s = slot(cells[i].key, cap);
            while (fresh[s].key != 0)
                s = (s + 1) & (cap - 1);
            fresh[s] = cells[i];
        }
    }
    free(cells);
    cells = fresh;
    cap_cells = cap;
    last_cell = NULL; /* it pointed into the old table */
}

static struct cell *cell_for(int64_t b, uint32_t id) {
    uint64_t key = ((uint64_t)(b + 1) << 32) | id;
    size_t s;
    if (2 * (n_cells + 1) > cap_cells)
        grow_cells();
    s = slot(key, cap_cells);
    while (cells[s].key != key) {
        if (cells[s].key == 0) {
            cells[s].key = key;
            ++n_cells;
            break;
        }
        s = (s + 1) & (cap_cells - 1);
    }
    return &cells[s];
}

static void on_exec(unsigned int vcpu, void *udata) {
    struct block *b = udata;
    (void)vcpu;
    if (last_cell != NULL && b->start != last_end)
        last_cell->taken++;
    if (b->role == ROLE_BEGIN) {
        bucket = (int64_t)(calls_seen % n_calls);
        calls_seen++;
    } else if (b->role == ROLE_END) {
        bucket = -1;
    }
    last_cell = cell_for(bucket, b->id);
    last_cell->runs++;
    last_end = b->end;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    size_t n = qemu_plugin_tb_n_insns(tb), i;
    struct block *b = calloc(1, sizeof *b);
    (void)id;
    if (b == NULL || n == 0)
        die(n == 0 ? "a translated block without instructions" : "out of memory");
    b->addrs = malloc(n * sizeof *b->addrs);
    if (b->addrs == NULL)
        die("out of memory");
    for (i = 0; i < n; ++i) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        b->addrs[i] = qemu_plugin_insn_vaddr(insn);
        if (i == n - 1)
            b->end = b->addrs[i] + qemu_plugin_insn_size(insn);
    }
    b->n = (uint32_t)n;
    b->start = b->addrs[0];
    b->role = b->start == begin_addr ? ROLE_BEGIN : ROLE_NONE;
    for (i = 0; i < (size_t)n_ends; ++i) {
        if (b->start == end_addrs[i])
            b->role = ROLE_END;
    }
    if (n_blocks == cap_blocks) {
        cap_blocks = cap_blocks ? cap_blocks * 2 : 1024;
        blocks = realloc(blocks, cap_blocks * sizeof *blocks);
        if (blocks == NULL)
            die("out of memory");
    }
    blocks[n_blocks++] = b;
    b->id = (uint32_t)n_blocks; /* 1-based: key 0 marks an empty cell */
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_exec, 0 /* no registers */, b);
}

static void write_counts(qemu_plugin_id_t id, void *udata) {
    char *tmp = malloc(strlen(out_path) + 5);
    FILE *f;
    size_t i, k;
    (void)id;
    (void)udata;
    if (tmp == NULL)
        return;
    sprintf(tmp, "%s.tmp", out_path);
    f = fopen(tmp, "w");
    if (f == NULL) {
        fprintf(stderr, "edgeq_counts: cannot write %s\n", tmp);
        free(tmp);
        return;
    }
    fprintf(f, "calls %llu\n", (unsigned long long)calls_seen);
    for (i = 0; i < n_blocks; ++i) {
        fprintf(f, "block %u", blocks[i]->id);
        for (k = 0; k < blocks[i]->n; ++k)
            fprintf(f, " %llx", (unsigned long long)blocks[i]->addrs[k]);
        fputc('\n', f);
    }
    for (i = 0; i < cap_cells; ++i) {
        if (cells[i].key != 0) {
            fprintf(f, "count %lld %u %llu %llu\n", (long long)(cells[i].key >> 32) - 1,
                    (unsigned)(cells[i].key & 0xFFFFFFFFu), (unsigned long long)cells[i].runs,
                    (unsigned long long)cells[i].taken);
        }
    }
    if (fclose(f) == 0)
        rename(tmp, out_path); /* readers see the whole file or none */
    free(tmp);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const struct qemu_info_t *info, int argc, char **argv) {
    int i;
    (void)info;
    for (i = 0; i < argc; ++i) {
        const char *a = argv[i];
        if (strncmp(a, "out=", 4) == 0) {
            out_path = a + 4;
        } else if (strncmp(a, "begin=", 6) == 0) {
            begin_addr = strtoull(a + 6, NULL, 16);
        } else if (strncmp(a, "end=", 4) == 0 && n_ends < MAX_ENDS) {
            end_addrs[n_ends++] = strtoull(a + 4, NULL, 16);
        } else if (strncmp(a, "calls=", 6) == 0) {
            n_calls = strtoull(a + 6, NULL, 10);
        } else {
            fprintf(stderr, "edgeq_counts: unknown argument %s\n", a);
            return -1;
        }
    }
    if (out_path == NULL || n_calls == 0) {
        fprintf(stderr, "edgeq_counts: needs out=PATH (and calls=N >= 1)\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, write_counts, NULL);
    return 0;
}
