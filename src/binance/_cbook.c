/* binance._cbook: the C core of one order book side (see binance/orderbook.py).
 *
 * Optional accelerator: binance.orderbook falls back to its pure-Python PyBookSide when this
 * module is missing, and the tests run both against each other. No I/O here; it uses only the
 * CPython C API and, for decimal reads and unusual price spellings, the decimal module.
 *
 * A side is a list of blocks sorted best first by `key` (the price for asks, minus the price
 * for bids), then by the exact decimal value when two prices share one double. A block holds
 * at most BLOCK levels, its keys apart from the rest so that a search reads few cache lines;
 * an insert or removal near the top moves at most BLOCK levels of 24 bytes.
 *
 * No Python object is kept per level, so updating a level frees nothing cold. A level keeps
 * the quantity as a double and as the digits of its text (an integer and the count of digits
 * after the point: the coefficient and exponent of Decimal(text)), and the price's count of
 * digits after the point; the price's digits follow from its key whenever it has at most 15
 * digits (then no other such price shares its double). Other texts (longer, or not plain
 * decimals) are kept in a slot of the side's text arena. A quantity of zero removes the level.
 *
 * Re-entrancy: the only calls that may run Python code (allocations that trigger the garbage
 * collector, float() / Decimal() of unusual texts, releasing a caller's object) happen while
 * no pointer into the blocks is held, so a finalizer that touches the side cannot break it.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#ifndef BLOCK
#define BLOCK 64 /* levels per block */
#endif
#define MERGE (BLOCK / 2)   /* neighbours holding at most this many together are merged */
#define ROWS_ON_STACK 32    /* reads of up to this many levels collect them on the stack */
#define ROWS_KEPT 64        /* float reads of up to this many levels recycle their lists */
#define TEXT_CAP 23         /* arena texts up to this long are copied into the slot */
#define TEXT_OBJ 255        /* text length meaning: the buffer holds a str object's pointer */
#define IN_SLOT 255         /* scale meaning: the text is kept in the level's slot */
#define MAX_SCALE 250       /* digits after the point that a level keeps as a number */
#define NO_SLOT UINT32_MAX
#define TEXT_BUF (MAX_SCALE + 24) /* room for a text rebuilt from digits and a scale */

typedef struct {
    double qty;      /* float(quantity), > 0 */
    uint64_t qcoef;  /* the quantity's digits as an integer (Decimal's coefficient) */
    uint8_t qscale;  /* digits after its point, or IN_SLOT */
    uint8_t pscale;  /* digits after the price's point (the price is exact), or IN_SLOT */
    uint16_t unused;
    uint32_t slot;   /* index of the level's texts in the arena, or NO_SLOT */
} Level;

typedef struct {
    uint8_t plen;         /* price text length, TEXT_OBJ, or 0 when not kept here */
    uint8_t qlen;         /* quantity text length, TEXT_OBJ, or 0 */
    char ptext[TEXT_CAP]; /* the price: a plain ASCII decimal (free slots: next free index) */
    char qtext[TEXT_CAP]; /* the quantity as received */
} Slot;

typedef struct {
    Py_ssize_t n;
    double key[BLOCK];
    Level lv[BLOCK];
} Block;

enum { TRUST_ALL = 0, TRUST_UPTO = 1, TRUST_NONE = 2 };

typedef struct {
    PyObject_HEAD
    Block **blocks;
    double *last;      /* last[b] = key of the last level of blocks[b] */
    Py_ssize_t nblocks;
    Py_ssize_t cap;
    Py_ssize_t count;
    Slot *slots;       /* the text arena */
    uint32_t nslots;   /* slots ever handed out (the arena's used part) */
    uint32_t capslots;
    uint32_t free;     /* first free slot, or NO_SLOT */
    int bids;
    int trust;         /* TRUST_ALL, TRUST_UPTO (the horizon below) or TRUST_NONE */
    int hexact;        /* the horizon: the worst trusted price when trust == TRUST_UPTO */
    double hkey;
    PyObject *htext;   /* its plain ASCII text (str) */
    PyObject *rows;    /* the list the last small float read returned, to recycle */
} Side;

/* A price or quantity being applied. */
typedef struct {
    double value;    /* key for prices, the quantity for quantities */
    uint64_t coef;   /* digits as an integer, when scale >= 0 */
    int scale;       /* digits after the point, or -1: keep the text itself */
    int exact;       /* prices: at most 15 digits, so the key identifies the price */
    const char *s;   /* ASCII bytes of the text (prices: plain decimal), or NULL */
    Py_ssize_t n;
    PyObject *obj;   /* new reference: the str owning s */
} Text;

static PyObject *Decimal = NULL; /* decimal.Decimal */
static PyObject *str_f = NULL;   /* "f" (format spec) */
static PyObject *str_bids = NULL;
static PyObject *str_asks = NULL;
static PyObject *str_decimal = NULL;
static PyObject *str_k = NULL;
static PyObject *str_a = NULL;
static PyObject *str_b = NULL;
static PyObject *one = NULL; /* 1 */

static const double POW10[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* -- parsing -------------------------------------------------------------------------------- */

/* The value of 8 ASCII digits at s, or -1 if they are not all digits (SWAR: a few integer
 * operations instead of a loop; Binance's quantities have 8 decimals). */
static inline int64_t
eight_digits(const char *s)
{
    uint64_t v;
    memcpy(&v, s, 8);
    /* Every byte is in '0'..'9': high nibble 3, and adding 6 keeps it 3. */
    if (((v & 0xF0F0F0F0F0F0F0F0ULL) | (((v + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4))
        != 0x3333333333333333ULL) {
        return -1;
    }
    v -= 0x3030303030303030ULL;          /* bytes d0..d7, d0 first (little end) */
    v = (v * 10) + (v >> 8);             /* pairs: d0d1, d2d3, ... in every other byte */
    v = (((v & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
         (((v >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >> 32;
    return (int64_t)v;
}

static inline int
is_little_endian(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

/* Parse a plain decimal ASCII text: digits, optionally one '.' and digits, at least one digit.
 * Returns 0 if the text is not of that form, else 1 and sets:
 *   *value: float(text), correctly rounded;
 *   *coef, *scale: the digits as an integer and the count after the point (Decimal(text) is
 *     coef * 10**-scale, written the same way), or *scale = -1 if there are too many digits;
 *   *exact: 1 if coef < 10**15 and scale <= 22: then *value is coef / 10**scale in one
 *     correctly rounded division, and no other such text has the same double (DBL_DIG).
 * The text is NUL-terminated. */
static int
parse_plain(const char *s, Py_ssize_t n, double *value, uint64_t *coef, int *scale, int *exact)
{
    uint64_t m = 0;
    Py_ssize_t i = 0, frac = 0;
    for (; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9) {
            break;
        }
        m = m * 10 + d;
    }
    Py_ssize_t digits = i; /* accumulated into m, which wraps past 19 digits: checked below */
    if (i < n) {
        if (s[i] != '.') {
            return 0;
        }
        Py_ssize_t start = ++i;
        if (is_little_endian()) {
            for (; n - i >= 8; i += 8) {
                int64_t v = eight_digits(s + i);
                if (v < 0) {
                    return 0;
                }
                m = m * 100000000u + (uint64_t)v;
            }
        }
        for (; i < n; i++) {
            unsigned d = (unsigned char)s[i] - '0';
            if (d > 9) {
                return 0;
            }
            m = m * 10 + d;
        }
        frac = n - start;
        digits += frac;
        if (digits == 0) {
            return 0; /* "." */
        }
    }
    else if (n == 0) {
        return 0;
    }
    int whole = digits <= 19 && frac <= MAX_SCALE; /* m holds every digit */
    *coef = m;
    *scale = whole ? (int)frac : -1;
    if (whole && m < 1000000000000000ULL && frac <= 22) {
        *value = frac ? (double)m / POW10[frac] : (double)m;
        *exact = 1;
        return 1;
    }
    /* More digits than that: the text is plain ASCII, so strtod's rules. */
    char *stop = NULL;
    double v = PyOS_string_to_double(s, &stop, NULL);
    if ((v == -1.0 && PyErr_Occurred()) || stop != s + n) {
        PyErr_Clear();
        return 0;
    }
    *value = v;
    *exact = 0;
    return 1;
}

/* float(text) for a text that is not a plain ASCII decimal; -1 with an exception on error. */
static int
parse_float(PyObject *text, double *value)
{
    PyObject *f = PyFloat_FromString(text);
    if (f == NULL) {
        return -1;
    }
    *value = PyFloat_AS_DOUBLE(f);
    Py_DECREF(f);
    return 0;
}

static inline int
ascii_of(PyObject *text, const char **s, Py_ssize_t *n)
{
    if (!PyUnicode_IS_COMPACT_ASCII(text)) {
        return 0;
    }
    *s = (const char *)PyUnicode_DATA(text);
    *n = PyUnicode_GET_LENGTH(text);
    return 1;
}

/* A price: fills *out. -1 with an exception unless a str of a finite positive number. */
static int
parse_price(const Side *self, PyObject *text, Text *out)
{
    const char *s;
    Py_ssize_t n;
    double v;
    if (!PyUnicode_CheckExact(text)) {
        PyErr_Format(PyExc_TypeError, "prices must be decimal strings, not %R", text);
        return -1;
    }
    if (ascii_of(text, &s, &n) && parse_plain(s, n, &v, &out->coef, &out->scale, &out->exact)) {
        if (!(v > 0.0 && v < Py_HUGE_VAL)) {
            goto range;
        }
        Py_INCREF(text);
        out->obj = text;
    }
    else {
        /* An unusual spelling ("1e-8", " 1.5", "1_0"): float() decides, as in pure Python;
         * the level keeps its plain form, so that comparisons need no allocation later. */
        if (parse_float(text, &v) < 0) {
            return -1;
        }
        if (!(v > 0.0 && v < Py_HUGE_VAL)) {
            goto range;
        }
        PyObject *dec = PyObject_CallOneArg(Decimal, text);
        if (dec == NULL) {
            return -1;
        }
        PyObject *plain = PyObject_Format(dec, str_f);
        Py_DECREF(dec);
        if (plain == NULL) {
            return -1;
        }
        double check;
        if (!PyUnicode_CheckExact(plain) || !ascii_of(plain, &s, &n) ||
            !parse_plain(s, n, &check, &out->coef, &out->scale, &out->exact)) {
            Py_DECREF(plain);
            PyErr_Format(PyExc_ValueError, "unusable price %R", text);
            return -1;
        }
        out->obj = plain;
    }
    out->value = self->bids ? -v : v;
    out->s = s;
    out->n = n;
    return 0;
range:
    PyErr_Format(PyExc_ValueError, "price must be a finite positive number, not %R", text);
    return -1;
}

/* A quantity: fills *out. -1 with an exception unless a str of a finite number >= 0. */
static int
parse_qty(PyObject *text, Text *out)
{
    double v;
    out->s = NULL;
    out->n = 0;
    out->scale = -1;
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "quantities must be decimal strings, not %R", text);
        return -1;
    }
    if (PyUnicode_CheckExact(text)) {
        Py_INCREF(text);
    }
    else { /* a str subclass: keep a plain str copy */
        text = PyUnicode_FromObject(text);
        if (text == NULL) {
            return -1;
        }
    }
    if (!(ascii_of(text, &out->s, &out->n) &&
          parse_plain(out->s, out->n, &v, &out->coef, &out->scale, &out->exact))) {
        out->scale = -1; /* keep the text */
        if (parse_float(text, &v) < 0) {
            Py_DECREF(text);
            return -1;
        }
    }
    if (!(v >= 0.0 && v < Py_HUGE_VAL)) {
        PyErr_Format(PyExc_ValueError, "quantity must be a finite non-negative number, not %R",
                     text);
        Py_DECREF(text);
        return -1;
    }
    out->value = v;
    out->obj = text;
    return 0;
}

/* Write coef * 10**-scale as a plain decimal text into buf (TEXT_BUF bytes); its length. */
static Py_ssize_t
digits_text(uint64_t coef, int scale, char *buf)
{
    char rev[20];
    int nd = 0;
    do {
        rev[nd++] = (char)('0' + coef % 10);
        coef /= 10;
    } while (coef);
    int width = nd > scale ? nd : scale + 1; /* at least one digit before the point */
    Py_ssize_t len = 0;
    for (int pos = width - 1; pos >= 0; pos--) { /* pos: power of ten of this digit */
        if (pos == scale - 1) {
            buf[len++] = '.';
        }
        buf[len++] = pos < nd ? rev[pos] : '0';
    }
    return len;
}

/* -- texts kept in the arena ---------------------------------------------------------------- */

static inline PyObject *
text_obj(const char *buf)
{
    PyObject *obj;
    memcpy(&obj, buf, sizeof(obj));
    return obj;
}

/* Keep a text in buf: its bytes if short ASCII, else a new reference to the str. */
static inline void
text_keep(char *buf, uint8_t *len, const Text *t)
{
    if (t->s != NULL && t->n <= TEXT_CAP) {
        memcpy(buf, t->s, (size_t)t->n);
        *len = (uint8_t)t->n;
    }
    else {
        Py_INCREF(t->obj);
        memcpy(buf, &t->obj, sizeof(PyObject *));
        *len = TEXT_OBJ;
    }
}

/* Release a kept text (a str object frees no Python code). */
static inline void
text_drop(const char *buf, uint8_t len)
{
    if (len == TEXT_OBJ) {
        Py_DECREF(text_obj(buf));
    }
}

/* A free slot's index (growing the arena if needed), or NO_SLOT with MemoryError. */
static uint32_t
slot_take(Side *self)
{
    uint32_t i = self->free;
    if (i != NO_SLOT) {
        memcpy(&self->free, self->slots[i].ptext, sizeof(uint32_t));
    }
    else {
        if (self->nslots == self->capslots) {
            uint32_t cap = self->capslots ? 2 * self->capslots : 16;
            Slot *slots = cap > self->capslots && cap < NO_SLOT
                              ? PyMem_Realloc(self->slots, (size_t)cap * sizeof(Slot))
                              : NULL;
            if (slots == NULL) {
                PyErr_NoMemory();
                return NO_SLOT;
            }
            self->slots = slots;
            self->capslots = cap;
        }
        i = self->nslots++;
    }
    self->slots[i].plen = self->slots[i].qlen = 0;
    return i;
}

/* Release a slot's texts and put it on the free list. */
static void
slot_give(Side *self, uint32_t i)
{
    Slot *slot = &self->slots[i];
    uint8_t plen = slot->plen, qlen = slot->qlen;
    char ptext[TEXT_CAP], qtext[TEXT_CAP];
    memcpy(ptext, slot->ptext, TEXT_CAP);
    memcpy(qtext, slot->qtext, TEXT_CAP);
    slot->plen = slot->qlen = 0;
    memcpy(slot->ptext, &self->free, sizeof(uint32_t));
    self->free = i;
    text_drop(ptext, plen);
    text_drop(qtext, qlen);
}

/* The plain text of a level's price: rebuilt from its key and scale into buf, or the bytes
 * kept in its slot. Sets *n. */
static const char *
price_bytes(const Side *self, double key, const Level *lv, char *buf, Py_ssize_t *n)
{
    if (lv->pscale != IN_SLOT) {
        /* coef / 10**scale rounded to the key: key * 10**scale is within 0.25 of coef. */
        double x = (key < 0 ? -key : key) * POW10[lv->pscale];
        *n = digits_text((uint64_t)(x + 0.5), lv->pscale, buf);
        return buf;
    }
    const Slot *slot = &self->slots[lv->slot];
    if (slot->plen == TEXT_OBJ) {
        PyObject *obj = text_obj(slot->ptext);
        *n = PyUnicode_GET_LENGTH(obj);
        return (const char *)PyUnicode_DATA(obj);
    }
    *n = slot->plen;
    return slot->ptext;
}

/* -- exact order ---------------------------------------------------------------------------- */

/* Compare the values of two plain ASCII decimal texts: -1, 0 or 1. */
static int
plain_cmp(const char *sa, Py_ssize_t na, const char *sb, Py_ssize_t nb)
{
    const char *da = memchr(sa, '.', (size_t)na);
    const char *db = memchr(sb, '.', (size_t)nb);
    Py_ssize_t ia = da ? da - sa : na, ib = db ? db - sb : nb; /* integer part lengths */
    const char *fa = da ? da + 1 : sa + na, *fb = db ? db + 1 : sb + nb;
    Py_ssize_t la = (sa + na) - fa, lb = (sb + nb) - fb; /* fraction lengths */
    while (ia > 0 && *sa == '0') {
        sa++;
        ia--;
    }
    while (ib > 0 && *sb == '0') {
        sb++;
        ib--;
    }
    while (la > 0 && fa[la - 1] == '0') {
        la--;
    }
    while (lb > 0 && fb[lb - 1] == '0') {
        lb--;
    }
    if (ia != ib) {
        return ia < ib ? -1 : 1;
    }
    int c = memcmp(sa, sb, (size_t)ia);
    if (c) {
        return c < 0 ? -1 : 1;
    }
    c = memcmp(fa, fb, (size_t)(la < lb ? la : lb));
    if (c) {
        return c < 0 ? -1 : 1;
    }
    return la == lb ? 0 : (la < lb ? -1 : 1);
}

/* Order of a price against the level (lkey, lv): -1 better, 0 same, 1 worse. */
static int
level_cmp(const Side *self, const Text *price, double lkey, const Level *lv)
{
    if (price->value != lkey) {
        return price->value < lkey ? -1 : 1;
    }
    if (price->exact && lv->pscale != IN_SLOT) {
        return 0; /* one double, both at most 15 digits: one price */
    }
    char buf[TEXT_BUF];
    Py_ssize_t ln;
    const char *ls = price_bytes(self, lkey, lv, buf, &ln);
    int c = plain_cmp(price->s, price->n, ls, ln);
    return self->bids ? -c : c;
}

/* True if the level (key, lv) lies past the horizon (untrusted). */
static inline int
past_horizon(const Side *self, double key, const Level *lv)
{
    if (self->trust == TRUST_ALL) {
        return 0;
    }
    if (self->trust == TRUST_NONE) {
        return 1;
    }
    if (key != self->hkey) {
        return key > self->hkey;
    }
    if (lv->pscale != IN_SLOT && self->hexact) {
        return 0;
    }
    char buf[TEXT_BUF];
    Py_ssize_t n;
    const char *s = price_bytes(self, key, lv, buf, &n);
    int c = plain_cmp(s, n, (const char *)PyUnicode_DATA(self->htext),
                      PyUnicode_GET_LENGTH(self->htext));
    return (self->bids ? -c : c) > 0;
}

/* -- blocks --------------------------------------------------------------------------------- */

/* First index in a[0..n) whose value is >= key (n if none); n >= 1. Branch-free steps. */
static inline Py_ssize_t
lower_bound(const double *a, Py_ssize_t n, double key)
{
    const double *base = a;
    while (n > 1) {
        Py_ssize_t half = n / 2;
        base += half & -(Py_ssize_t)(base[half - 1] < key); /* no branch to mispredict */
        n -= half;
    }
    return (base - a) + (*base < key);
}

/* How many of the sorted a[0..n) are < key: a count over the whole array, whose loads do not
 * wait on each other as a binary search's do (two doubles per step with SSE2). */
static inline Py_ssize_t
count_below(const double *a, Py_ssize_t n, double key)
{
    Py_ssize_t count = 0, j = 0;
#if defined(__SSE2__)
    __m128d k = _mm_set1_pd(key);
    __m128i acc0 = _mm_setzero_si128(), acc1 = _mm_setzero_si128();
    for (; j + 4 <= n; j += 4) { /* a true comparison is all ones: -1 per lane */
        acc0 = _mm_sub_epi64(acc0, _mm_castpd_si128(_mm_cmplt_pd(_mm_loadu_pd(a + j), k)));
        acc1 = _mm_sub_epi64(acc1, _mm_castpd_si128(_mm_cmplt_pd(_mm_loadu_pd(a + j + 2), k)));
    }
    int64_t lanes[2];
    _mm_storeu_si128((__m128i *)lanes, _mm_add_epi64(acc0, acc1));
    count = (Py_ssize_t)(lanes[0] + lanes[1]);
#endif
    for (; j < n; j++) {
        count += a[j] < key;
    }
    return count;
}

/* Where a price is or would go: block *b, index *i; returns 1 if a level holds that price. */
static int
locate(const Side *self, const Text *price, Py_ssize_t *b, Py_ssize_t *i)
{
    double key = price->value;
    if (self->nblocks == 0) {
        *b = 0;
        *i = 0;
        return 0;
    }
    Py_ssize_t bb = 0;
    if (self->last[0] < key) { /* most updates land in the first block: no search then */
        bb = lower_bound(self->last, self->nblocks, key);
        if (bb == self->nblocks) { /* past every level */
            *b = bb - 1;
            *i = self->blocks[bb - 1]->n;
            return 0;
        }
    }
    const Block *blk = self->blocks[bb];
    Py_ssize_t l = count_below(blk->key, blk->n, key); /* < n: blk's last key >= key */
    /* Levels with this key: usually one; several only for prices of 16+ digits. */
    for (;;) {
        int c;
        if (blk->key[l] != key || (c = level_cmp(self, price, blk->key[l], &blk->lv[l])) < 0) {
            break;
        }
        if (c == 0) {
            *b = bb;
            *i = l;
            return 1;
        }
        if (++l == blk->n) {
            if (bb + 1 == self->nblocks) {
                break; /* insert at the end of the last block */
            }
            bb++;
            blk = self->blocks[bb];
            l = 0;
        }
    }
    *b = bb;
    *i = l;
    return 0;
}

static int
insert_block_slot(Side *self, Py_ssize_t at)
{
    if (self->nblocks == self->cap) {
        Py_ssize_t cap = self->cap ? 2 * self->cap : 8;
        Block **blocks = PyMem_Realloc(self->blocks, (size_t)cap * sizeof(Block *));
        if (blocks == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        self->blocks = blocks;
        double *last = PyMem_Realloc(self->last, (size_t)cap * sizeof(double));
        if (last == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        self->last = last;
        self->cap = cap;
    }
    Block *blk = PyMem_Malloc(sizeof(Block));
    if (blk == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    blk->n = 0;
    memmove(&self->blocks[at + 1], &self->blocks[at],
            (size_t)(self->nblocks - at) * sizeof(Block *));
    memmove(&self->last[at + 1], &self->last[at], (size_t)(self->nblocks - at) * sizeof(double));
    self->blocks[at] = blk;
    self->nblocks++;
    return 0;
}

static void
drop_block_slot(Side *self, Py_ssize_t at)
{
    PyMem_Free(self->blocks[at]);
    memmove(&self->blocks[at], &self->blocks[at + 1],
            (size_t)(self->nblocks - at - 1) * sizeof(Block *));
    memmove(&self->last[at], &self->last[at + 1], (size_t)(self->nblocks - at - 1) * sizeof(double));
    self->nblocks--;
}

/* Move n levels from src[from] to dst[to] (blocks may be the same; ranges may overlap). */
static inline void
move_levels(Block *dst, Py_ssize_t to, Block *src, Py_ssize_t from, Py_ssize_t n)
{
    memmove(&dst->key[to], &src->key[from], (size_t)n * sizeof(double));
    memmove(&dst->lv[to], &src->lv[from], (size_t)n * sizeof(Level));
}

/* Insert a level at (b, i) as returned by locate. */
static int
insert_at(Side *self, Py_ssize_t b, Py_ssize_t i, double key, const Level *lv)
{
    if (self->nblocks == 0) {
        if (insert_block_slot(self, 0) < 0) {
            return -1;
        }
        b = 0;
        i = 0;
    }
    Block *blk = self->blocks[b];
    if (blk->n == BLOCK) { /* split: the upper half moves to a new block after this one */
        if (insert_block_slot(self, b + 1) < 0) {
            return -1;
        }
        Block *next = self->blocks[b + 1];
        Py_ssize_t half = BLOCK / 2;
        move_levels(next, 0, blk, half, BLOCK - half);
        next->n = BLOCK - half;
        blk->n = half;
        self->last[b] = blk->key[half - 1];
        self->last[b + 1] = next->key[next->n - 1];
        if (i > half) {
            b++;
            i -= half;
            blk = next;
        }
    }
    move_levels(blk, i + 1, blk, i, blk->n - i);
    blk->key[i] = key;
    blk->lv[i] = *lv;
    blk->n++;
    self->last[b] = blk->key[blk->n - 1];
    self->count++;
    return 0;
}

/* Remove the level at (b, i); returns its slot (NO_SLOT if none) for the caller to give. */
static uint32_t
remove_at(Side *self, Py_ssize_t b, Py_ssize_t i)
{
    Block *blk = self->blocks[b];
    uint32_t slot = blk->lv[i].slot;
    move_levels(blk, i, blk, i + 1, blk->n - i - 1);
    blk->n--;
    self->count--;
    if (blk->n == 0) {
        drop_block_slot(self, b);
        return slot;
    }
    self->last[b] = blk->key[blk->n - 1];
    /* Keep blocks reasonably full: merge with a neighbour when both fit in half a block. */
    if (b + 1 < self->nblocks && blk->n + self->blocks[b + 1]->n <= MERGE) {
        Block *next = self->blocks[b + 1];
        move_levels(blk, blk->n, next, 0, next->n);
        blk->n += next->n;
        self->last[b] = self->last[b + 1];
        drop_block_slot(self, b + 1);
    }
    else if (b > 0 && blk->n + self->blocks[b - 1]->n <= MERGE) {
        Block *prev = self->blocks[b - 1];
        move_levels(prev, prev->n, blk, 0, blk->n);
        prev->n += blk->n;
        self->last[b - 1] = self->last[b];
        drop_block_slot(self, b);
    }
    return slot;
}

static void
clear_all(Side *self)
{
    Block **blocks = self->blocks;
    Py_ssize_t nblocks = self->nblocks;
    Slot *slots = self->slots;
    uint32_t nslots = self->nslots;
    PyObject *htext = self->htext;
    PyMem_Free(self->last);
    self->blocks = NULL;
    self->last = NULL;
    self->nblocks = 0;
    self->cap = 0;
    self->count = 0;
    self->slots = NULL;
    self->nslots = self->capslots = 0;
    self->free = NO_SLOT;
    self->trust = TRUST_ALL;
    self->htext = NULL;
    /* The side is empty and consistent before any text is released. */
    for (Py_ssize_t b = 0; b < nblocks; b++) {
        PyMem_Free(blocks[b]);
    }
    PyMem_Free(blocks);
    for (uint32_t i = 0; i < nslots; i++) { /* free slots hold no text (lengths 0) */
        text_drop(slots[i].ptext, slots[i].plen);
        text_drop(slots[i].qtext, slots[i].qlen);
    }
    PyMem_Free(slots);
    Py_XDECREF(htext);
}

/* -- updates -------------------------------------------------------------------------------- */

/* Keep a price (NULL: unchanged) and a quantity: in the level as digits if they can be,
 * else in the level's slot. -1 with MemoryError, the level unchanged. */
static int
keep_texts(Side *self, Level *lv, const Text *price, const Text *qty)
{
    int need_p = price != NULL && !price->exact;
    int need_q = qty->scale < 0;
    if ((need_p || need_q) && lv->slot == NO_SLOT) {
        uint32_t slot = slot_take(self);
        if (slot == NO_SLOT) {
            return -1;
        }
        lv->slot = slot;
    }
    lv->qty = qty->value;
    lv->qcoef = qty->coef;
    lv->qscale = need_q ? IN_SLOT : (uint8_t)qty->scale;
    if (price != NULL) {
        lv->pscale = need_p ? IN_SLOT : (uint8_t)price->scale;
    }
    if (need_p) {
        text_keep(self->slots[lv->slot].ptext, &self->slots[lv->slot].plen, price);
    }
    if (need_q) {
        text_keep(self->slots[lv->slot].qtext, &self->slots[lv->slot].qlen, qty);
    }
    return 0;
}

/* Apply one valid level. -1 on memory error. */
static int
apply_level(Side *self, const Text *price, const Text *qty)
{
    Py_ssize_t b, i;
    if (locate(self, price, &b, &i)) {
        if (qty->value == 0.0) {
            uint32_t slot = remove_at(self, b, i);
            if (slot != NO_SLOT) {
                slot_give(self, slot);
            }
            return 0;
        }
        Level *lv = &self->blocks[b]->lv[i]; /* the price keeps its first spelling */
        if (lv->qscale != IN_SLOT) {
            return keep_texts(self, lv, NULL, qty);
        }
        /* The old quantity text is in the slot: replace it, then release it. */
        Slot *slot = &self->slots[lv->slot];
        char old[TEXT_CAP];
        uint8_t old_len = slot->qlen;
        memcpy(old, slot->qtext, TEXT_CAP);
        slot->qlen = 0;
        keep_texts(self, lv, NULL, qty); /* cannot fail: the level has its slot */
        text_drop(old, old_len);
        return 0;
    }
    if (qty->value == 0.0) {
        return 0; /* removing an absent level is a no-op */
    }
    Level lv;
    lv.unused = 0;
    lv.slot = NO_SLOT;
    if (keep_texts(self, &lv, price, qty) < 0 || insert_at(self, b, i, price->value, &lv) < 0) {
        if (lv.slot != NO_SLOT) {
            slot_give(self, lv.slot);
        }
        return -1;
    }
    return 0;
}

/* Keep the first error of a batch; later ones are dropped. */
static void
note_error(PyObject **type, PyObject **value, PyObject **tb)
{
    if (*type == NULL) {
        PyErr_Fetch(type, value, tb);
    }
    else {
        PyErr_Clear();
    }
}

/* Apply a batch of levels; -1 with the first error set (see update_doc). */
static int
update_side(Side *self, PyObject *levels)
{
    PyObject *seq = PySequence_Fast(levels, "levels must be an iterable of [price, quantity]");
    if (seq == NULL) {
        return -1;
    }
    PyObject *err_type = NULL, *err_value = NULL, *err_tb = NULL;
    /* The size and items are read again at each step: a finalizer may change the list. */
    for (Py_ssize_t n = 0; n < PySequence_Fast_GET_SIZE(seq); n++) {
        PyObject *pair = PySequence_Fast_GET_ITEM(seq, n);
        PyObject *p, *q;
        Py_INCREF(pair);
        if ((PyList_CheckExact(pair) || PyTuple_CheckExact(pair)) && Py_SIZE(pair) == 2) {
            p = PySequence_Fast_GET_ITEM(pair, 0);
            q = PySequence_Fast_GET_ITEM(pair, 1);
            Py_INCREF(p);
            Py_INCREF(q);
        }
        else {
            PyObject *fast = PySequence_Fast(pair, "a level must be a [price, quantity] pair");
            if (fast != NULL && PySequence_Fast_GET_SIZE(fast) != 2) {
                PyErr_Format(PyExc_ValueError, "a level must be a [price, quantity] pair, not %R",
                             pair);
                Py_CLEAR(fast);
            }
            if (fast == NULL) { /* a malformed pair stops the batch */
                Py_DECREF(pair);
                note_error(&err_type, &err_value, &err_tb);
                break;
            }
            p = PySequence_Fast_GET_ITEM(fast, 0);
            q = PySequence_Fast_GET_ITEM(fast, 1);
            Py_INCREF(p);
            Py_INCREF(q);
            Py_DECREF(fast);
        }
        Text price, qty;
        price.obj = qty.obj = NULL;
        int rc = parse_price(self, p, &price);
        if (rc == 0) {
            rc = parse_qty(q, &qty);
        }
        if (rc == 0) {
            rc = apply_level(self, &price, &qty);
        }
        Py_XDECREF(price.obj);
        Py_XDECREF(qty.obj);
        Py_DECREF(p);
        Py_DECREF(q);
        Py_DECREF(pair);
        if (rc < 0) { /* a bad pair is skipped; the first error is raised at the end */
            note_error(&err_type, &err_value, &err_tb);
            if (PyErr_GivenExceptionMatches(err_type, PyExc_MemoryError)) {
                break;
            }
        }
    }
    Py_DECREF(seq);
    if (err_type != NULL) {
        PyErr_Restore(err_type, err_value, err_tb);
        return -1;
    }
    return 0;
}

/* -- reads ---------------------------------------------------------------------------------- */

/* Number of trusted levels, at most `k` (k < 0: no limit). O(k / BLOCK): a read of the best
 * few levels never walks the whole side, horizon or not. */
static Py_ssize_t
trusted_count(const Side *self, Py_ssize_t k)
{
    Py_ssize_t total = k >= 0 && k < self->count ? k : self->count;
    if (self->trust == TRUST_ALL || total == 0) {
        return total;
    }
    if (self->trust == TRUST_NONE) {
        return 0;
    }
    /* The last level the read wants: when it lies inside the horizon, so do all before it. */
    Py_ssize_t b = 0, left = total - 1;
    while (left >= self->blocks[b]->n) {
        left -= self->blocks[b]->n;
        b++;
    }
    if (!past_horizon(self, self->blocks[b]->key[left], &self->blocks[b]->lv[left])) {
        return total;
    }
    /* Otherwise the horizon lies among those levels: count up to it (blocks before b only). */
    Text h;
    h.value = self->hkey;
    h.exact = self->hexact;
    h.s = (const char *)PyUnicode_DATA(self->htext);
    h.n = PyUnicode_GET_LENGTH(self->htext);
    Py_ssize_t i;
    if (locate(self, &h, &b, &i)) {
        i++; /* the horizon's own level is trusted */
    }
    Py_ssize_t upto = i;
    for (Py_ssize_t j = 0; j < b; j++) {
        upto += self->blocks[j]->n;
    }
    return upto < total ? upto : total;
}

/* A price or quantity copied out of a level for a decimal read. */
typedef struct {
    uint64_t coef;
    int scale;   /* >= 0: coef * 10**-scale; -1: the text in buf (a reference if TEXT_OBJ) */
    uint8_t len;
    char buf[TEXT_CAP];
} Copy;

static void
copy_text(Copy *c, const char *buf, uint8_t len)
{
    c->scale = -1;
    c->len = len;
    memcpy(c->buf, buf, TEXT_CAP);
    if (len == TEXT_OBJ) {
        Py_INCREF(text_obj(buf));
    }
}

/* Copy the best n levels (all trusted: see trusted_count) without allocating any object. */
static void
collect(const Side *self, Py_ssize_t n, double *vals, Copy *texts)
{
    Py_ssize_t got = 0;
    for (Py_ssize_t b = 0; b < self->nblocks && got < n; b++) {
        const Block *blk = self->blocks[b];
        for (Py_ssize_t i = 0; i < blk->n && got < n; i++, got++) {
            const Level *lv = &blk->lv[i];
            double key = blk->key[i];
            if (texts == NULL) {
                vals[2 * got] = self->bids ? -key : key;
                vals[2 * got + 1] = lv->qty;
                continue;
            }
            Copy *c = &texts[2 * got];
            const Slot *slot = lv->slot != NO_SLOT ? &self->slots[lv->slot] : NULL;
            if (lv->pscale != IN_SLOT) {
                double x = (key < 0 ? -key : key) * POW10[lv->pscale];
                c[0].coef = (uint64_t)(x + 0.5); /* see price_bytes */
                c[0].scale = lv->pscale;
            }
            else {
                copy_text(&c[0], slot->ptext, slot->plen);
            }
            if (lv->qscale != IN_SLOT) {
                c[1].coef = lv->qcoef;
                c[1].scale = lv->qscale;
            }
            else {
                copy_text(&c[1], slot->qtext, slot->qlen);
            }
        }
    }
}

static PyObject *
decimal_of(const Copy *c)
{
    PyObject *text;
    if (c->scale >= 0) {
        char buf[TEXT_BUF];
        text = PyUnicode_FromStringAndSize(buf, digits_text(c->coef, c->scale, buf));
    }
    else if (c->len == TEXT_OBJ) {
        text = text_obj(c->buf);
        Py_INCREF(text);
    }
    else {
        text = PyUnicode_FromStringAndSize(c->buf, c->len);
    }
    if (text == NULL) {
        return NULL;
    }
    PyObject *dec = PyObject_CallOneArg(Decimal, text);
    Py_DECREF(text);
    return dec;
}

/* Put a float into list[i], keeping the float already there if it has that value. */
static inline int
set_float(PyObject *list, Py_ssize_t i, double value)
{
    PyObject *old = PyList_GET_ITEM(list, i);
    if (old != NULL && PyFloat_CheckExact(old) && PyFloat_AS_DOUBLE(old) == value) {
        return 0;
    }
    PyObject *f = PyFloat_FromDouble(value);
    if (f == NULL) {
        return -1;
    }
    PyList_SET_ITEM(list, i, f);
    Py_XDECREF(old);
    return 0;
}

/* Fill `out` (a list of n items, new or recycled) with [price, quantity] float rows. A row
 * list is recycled when nothing but `out` refers to it, which nobody else can observe. */
static int
fill_float_rows(PyObject *out, Py_ssize_t n, const double *vals)
{
    for (Py_ssize_t j = 0; j < n; j++) {
        PyObject *row = PyList_GET_ITEM(out, j);
        if (row == NULL || !PyList_CheckExact(row) || Py_REFCNT(row) != 1 ||
            PyList_GET_SIZE(row) != 2) {
            PyObject *fresh = PyList_New(2);
            if (fresh == NULL) {
                return -1;
            }
            PyList_SET_ITEM(out, j, fresh);
            Py_XDECREF(row);
            row = fresh;
        }
        if (set_float(row, 0, vals[2 * j]) < 0 || set_float(row, 1, vals[2 * j + 1]) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The best k (k < 0: all) trusted levels as new [price, quantity] lists. */
static PyObject *
read_rows(Side *self, Py_ssize_t k, int decimal)
{
    Py_ssize_t n = trusted_count(self, k);
    double vals_stack[2 * ROWS_ON_STACK];
    Copy texts_stack[2 * ROWS_ON_STACK];
    double *vals = vals_stack;
    Copy *texts = texts_stack;
    if (n > ROWS_ON_STACK) {
        if (decimal) {
            texts = PyMem_Malloc((size_t)n * 2 * sizeof(Copy));
        }
        else {
            vals = PyMem_Malloc((size_t)n * 2 * sizeof(double));
        }
        if ((decimal && texts == NULL) || (!decimal && vals == NULL)) {
            return PyErr_NoMemory();
        }
    }
    /* Copy first, allocate after: the allocations may run a finalizer that changes the side. */
    collect(self, n, vals, decimal ? texts : NULL);
    PyObject *out = NULL;
    if (!decimal) {
        /* The caller usually drops the last result before reading again: when nothing else
         * refers to it, that list and its rows are reused (values and all if unchanged). */
        PyObject *last = self->rows;
        if (last != NULL && Py_REFCNT(last) == 1 && PyList_GET_SIZE(last) == n) {
            self->rows = NULL; /* detached while it is refilled */
            out = last;
        }
        else {
            out = PyList_New(n);
        }
        if (out != NULL && fill_float_rows(out, n, vals) < 0) {
            Py_CLEAR(out);
        }
        if (out != NULL && n <= ROWS_KEPT) {
            PyObject *prev = self->rows;
            Py_INCREF(out);
            self->rows = out;
            Py_XDECREF(prev);
        }
    }
    else {
        out = PyList_New(n);
        for (Py_ssize_t j = 0; out != NULL && j < n; j++) {
            PyObject *a = decimal_of(&texts[2 * j]);
            PyObject *b = a ? decimal_of(&texts[2 * j + 1]) : NULL;
            PyObject *row = b ? PyList_New(2) : NULL;
            if (row == NULL) {
                Py_XDECREF(a);
                Py_XDECREF(b);
                Py_CLEAR(out);
                break;
            }
            PyList_SET_ITEM(row, 0, a);
            PyList_SET_ITEM(row, 1, b);
            PyList_SET_ITEM(out, j, row);
        }
        for (Py_ssize_t j = 0; j < 2 * n; j++) {
            if (texts[j].scale < 0) {
                text_drop(texts[j].buf, texts[j].len);
            }
        }
    }
    if (vals != vals_stack) {
        PyMem_Free(vals);
    }
    if (texts != texts_stack) {
        PyMem_Free(texts);
    }
    return out;
}

/* -- the type ------------------------------------------------------------------------------- */

static PyTypeObject SideType;

static PyObject *
Side_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    (void)args;
    (void)kwds;
    Side *self = (Side *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->blocks = NULL;
        self->last = NULL;
        self->nblocks = self->cap = self->count = 0;
        self->slots = NULL;
        self->nslots = self->capslots = 0;
        self->free = NO_SLOT;
        self->bids = 0;
        self->trust = TRUST_ALL;
        self->htext = NULL;
        self->rows = NULL;
    }
    return (PyObject *)self;
}

static int
Side_init(Side *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"side", NULL};
    PyObject *side;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O:BookSide", kwlist, &side)) {
        return -1;
    }
    int is_bids = PyUnicode_Check(side) ? PyUnicode_Compare(side, str_bids) == 0 : 0;
    int is_asks = PyUnicode_Check(side) ? PyUnicode_Compare(side, str_asks) == 0 : 0;
    if (PyErr_Occurred()) {
        return -1;
    }
    if (!is_bids && !is_asks) {
        PyErr_Format(PyExc_ValueError, "side must be 'bids' or 'asks', not %R", side);
        return -1;
    }
    clear_all(self);
    self->bids = is_bids;
    return 0;
}

static int
Side_traverse(Side *self, visitproc visit, void *arg)
{
    Py_VISIT(self->rows); /* the caller may have put anything in it */
    return 0;
}

static int
Side_clear_refs(Side *self)
{
    Py_CLEAR(self->rows);
    return 0;
}

static void
Side_dealloc(Side *self)
{
    PyObject_GC_UnTrack(self);
    clear_all(self);
    Py_CLEAR(self->rows);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

PyDoc_STRVAR(update_doc,
"update($self, levels, /)\n--\n\n"
"Apply [price, quantity] string pairs in order; a zero quantity removes the level.\n"
"Good pairs are applied, bad ones skipped, a malformed pair stops the batch; the first\n"
"error is raised afterwards.");

static PyObject *
Side_update(Side *self, PyObject *levels)
{
    if (update_side(self, levels) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static int
parse_k(PyObject *arg, Py_ssize_t *k)
{
    if (arg == NULL || arg == Py_None) {
        *k = -1;
        return 0;
    }
    Py_ssize_t v = PyNumber_AsSsize_t(arg, PyExc_OverflowError);
    if (v == -1 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError)) {
            return -1;
        }
        PyErr_Clear(); /* a huge k: every level, or none */
        int neg = PyObject_RichCompareBool(arg, Py_False, Py_LT);
        if (neg < 0) {
            return -1;
        }
        v = neg ? 0 : PY_SSIZE_T_MAX;
    }
    *k = v < 0 ? 0 : v;
    return 0;
}

/* Parse (k=None, *, decimal=False) or (*, decimal=False) from a vectorcall. */
static int
parse_read_args(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, int allow_k,
                PyObject **k, int *decimal)
{
    PyObject *dec = NULL;
    *k = NULL;
    if (nargs > allow_k) {
        PyErr_Format(PyExc_TypeError, "takes at most %d positional argument%s", allow_k,
                     allow_k == 1 ? "" : "s");
        return -1;
    }
    if (nargs == 1) {
        *k = args[0];
    }
    if (kwnames != NULL) {
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(kwnames); j++) {
            PyObject *name = PyTuple_GET_ITEM(kwnames, j);
            PyObject *value = args[nargs + j];
            if (name == str_decimal || PyUnicode_Compare(name, str_decimal) == 0) {
                dec = value;
            }
            else if (allow_k && *k == NULL &&
                     (name == str_k || PyUnicode_Compare(name, str_k) == 0)) {
                *k = value;
            }
            else {
                if (!PyErr_Occurred()) {
                    PyErr_Format(PyExc_TypeError, "unexpected keyword argument %R", name);
                }
                return -1;
            }
        }
    }
    *decimal = dec == NULL ? 0 : PyObject_IsTrue(dec);
    return *decimal < 0 ? -1 : 0;
}

PyDoc_STRVAR(top_doc,
"top($self, /, k=None, *, decimal=False)\n--\n\n"
"The best k trusted levels (all if k is None), best first, as new [price, quantity] lists\n"
"of floats, or of Decimal built from the received texts with decimal=True.");

static PyObject *
Side_top(Side *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *karg;
    int decimal;
    Py_ssize_t k;
    if (parse_read_args(args, nargs, kwnames, 1, &karg, &decimal) < 0 || parse_k(karg, &k) < 0) {
        return NULL;
    }
    return read_rows(self, k, decimal);
}

PyDoc_STRVAR(best_doc,
"best($self, /, *, decimal=False)\n--\n\n"
"The best trusted level as [price, quantity], or None.");

static PyObject *
Side_best(Side *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *karg;
    int decimal;
    if (parse_read_args(args, nargs, kwnames, 0, &karg, &decimal) < 0) {
        return NULL;
    }
    PyObject *rows = read_rows(self, 1, decimal);
    if (rows == NULL) {
        return NULL;
    }
    PyObject *row = Py_None;
    if (PyList_GET_SIZE(rows)) {
        row = PyList_GET_ITEM(rows, 0);
    }
    Py_INCREF(row);
    Py_DECREF(rows);
    return row;
}

/* The block holding the best trusted level (at index 0), or NULL. */
static const Block *
best_block(const Side *self)
{
    if (self->nblocks == 0) {
        return NULL;
    }
    const Block *blk = self->blocks[0];
    return past_horizon(self, blk->key[0], &blk->lv[0]) ? NULL : blk;
}

PyDoc_STRVAR(best_key_doc,
"_best_key($self, /)\n--\n\n"
"Sort key of the best trusted level (price for asks, -price for bids), or None.");

static PyObject *
Side_best_key(Side *self, PyObject *Py_UNUSED(ignored))
{
    const Block *blk = best_block(self);
    if (blk == NULL) {
        Py_RETURN_NONE;
    }
    return PyFloat_FromDouble(blk->key[0]);
}

/* 1 if the best trusted bid is at or above the best trusted ask (exact), else 0. */
static int
crosses(const Side *bids, const Side *asks)
{
    const Block *bid = best_block(bids);
    const Block *ask = best_block(asks);
    if (bid == NULL || ask == NULL) {
        return 0;
    }
    double bp = bids->bids ? -bid->key[0] : bid->key[0];
    double ap = asks->bids ? -ask->key[0] : ask->key[0];
    if (bp != ap) {
        return bp > ap;
    }
    if (bid->lv[0].pscale != IN_SLOT && ask->lv[0].pscale != IN_SLOT) {
        return 1;
    }
    char bb[TEXT_BUF], ab[TEXT_BUF];
    Py_ssize_t nb, na;
    const char *sb = price_bytes(bids, bid->key[0], &bid->lv[0], bb, &nb);
    const char *sa = price_bytes(asks, ask->key[0], &ask->lv[0], ab, &na);
    return plain_cmp(sb, nb, sa, na) >= 0;
}

PyDoc_STRVAR(crosses_doc,
"_crosses($self, asks, /)\n--\n\n"
"True if this bid side's best price is at or above the best price of asks (exact).");

static PyObject *
Side_crosses(Side *self, PyObject *other)
{
    if (!PyObject_TypeCheck(other, &SideType)) {
        PyErr_Format(PyExc_TypeError, "expected a C book side, not %R", other);
        return NULL;
    }
    return PyBool_FromLong(crosses(self, (Side *)other));
}

PyDoc_STRVAR(apply_event_doc,
"_apply_event($self, asks, event, check_crossed, /)\n--\n\n"
"Apply a depthUpdate event: bids.update(event['b']), then asks.update(event['a']).\n"
"Return True if check_crossed is true and the best bid is now at or above the best ask.");

static PyObject *
Side_apply_event(Side *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "_apply_event() takes 3 arguments");
        return NULL;
    }
    if (!PyObject_TypeCheck(args[0], &SideType)) {
        PyErr_Format(PyExc_TypeError, "expected a C book side, not %R", args[0]);
        return NULL;
    }
    Side *asks = (Side *)args[0];
    PyObject *levels = PyObject_GetItem(args[1], str_b);
    if (levels == NULL) {
        return NULL;
    }
    int rc = update_side(self, levels);
    Py_DECREF(levels);
    if (rc < 0) {
        return NULL;
    }
    levels = PyObject_GetItem(args[1], str_a);
    if (levels == NULL) {
        return NULL;
    }
    rc = update_side(asks, levels);
    Py_DECREF(levels);
    if (rc < 0) {
        return NULL;
    }
    int check = PyObject_IsTrue(args[2]);
    if (check < 0) {
        return NULL;
    }
    return PyBool_FromLong(check && crosses(self, asks));
}

PyDoc_STRVAR(trust_doc,
"_trust_to_worst($self, /)\n--\n\n"
"Trust only prices up to the worst level held now (nothing if the side is empty).");

static PyObject *
Side_trust_to_worst(Side *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *text = NULL;
    double key = 0.0;
    int exact = 0;
    if (self->count > 0) {
        const Block *blk = self->blocks[self->nblocks - 1];
        const Level *lv = &blk->lv[blk->n - 1];
        char buf[TEXT_BUF];
        Py_ssize_t n;
        key = blk->key[blk->n - 1];
        exact = lv->pscale != IN_SLOT;
        const char *s = price_bytes(self, key, lv, buf, &n);
        if (!exact && self->slots[lv->slot].plen == TEXT_OBJ) {
            text = text_obj(self->slots[lv->slot].ptext);
            Py_INCREF(text);
        }
        else { /* copied to buf first: this allocation may run a finalizer */
            char copy[TEXT_BUF];
            memcpy(copy, s, (size_t)n);
            text = PyUnicode_FromStringAndSize(copy, n);
            if (text == NULL) {
                return NULL;
            }
        }
    }
    PyObject *old = self->htext;
    self->htext = text;
    self->hkey = key;
    self->hexact = exact;
    self->trust = text != NULL ? TRUST_UPTO : TRUST_NONE;
    Py_XDECREF(old);
    Py_RETURN_NONE;
}

static PyObject *
Side_get_horizon_text(Side *self, void *Py_UNUSED(closure))
{
    if (self->trust == TRUST_ALL) {
        Py_RETURN_NONE;
    }
    if (self->trust == TRUST_NONE) {
        return PyUnicode_FromString("");
    }
    Py_INCREF(self->htext);
    return self->htext;
}

static PyObject *
Side_get_side(Side *self, void *Py_UNUSED(closure))
{
    PyObject *name = self->bids ? str_bids : str_asks;
    Py_INCREF(name);
    return name;
}

static PyObject *
Side_get_levels(Side *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSsize_t(self->count);
}

static PyObject *
Side_get_blocks(Side *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSsize_t(self->nblocks);
}

static PyObject *
Side_get_slots(Side *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSsize_t((Py_ssize_t)self->nslots);
}

PyDoc_STRVAR(clear_doc, "clear($self, /)\n--\n\nRemove every level and trust the whole side again.");

static PyObject *
Side_clear(Side *self, PyObject *Py_UNUSED(ignored))
{
    clear_all(self);
    Py_RETURN_NONE;
}

static Py_ssize_t
Side_len(Side *self)
{
    return trusted_count(self, -1);
}

static int
Side_bool(Side *self)
{
    return best_block(self) != NULL;
}

static PyMethodDef Side_methods[] = {
    {"update", (PyCFunction)Side_update, METH_O, update_doc},
    {"top", (PyCFunction)(void (*)(void))Side_top, METH_FASTCALL | METH_KEYWORDS, top_doc},
    {"best", (PyCFunction)(void (*)(void))Side_best, METH_FASTCALL | METH_KEYWORDS, best_doc},
    {"clear", (PyCFunction)Side_clear, METH_NOARGS, clear_doc},
    {"_best_key", (PyCFunction)Side_best_key, METH_NOARGS, best_key_doc},
    {"_crosses", (PyCFunction)Side_crosses, METH_O, crosses_doc},
    {"_apply_event", (PyCFunction)(void (*)(void))Side_apply_event, METH_FASTCALL,
     apply_event_doc},
    {"_trust_to_worst", (PyCFunction)Side_trust_to_worst, METH_NOARGS, trust_doc},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Side_getset[] = {
    {"side", (getter)Side_get_side, NULL, "\"bids\" or \"asks\".", NULL},
    {"_horizon_text", (getter)Side_get_horizon_text, NULL,
     "None: all trusted; \"\": nothing trusted; else the worst trusted price's text.", NULL},
    {"_levels", (getter)Side_get_levels, NULL, "Levels held, trusted or not.", NULL},
    {"_blocks", (getter)Side_get_blocks, NULL, "Blocks in use.", NULL},
    {"_slots", (getter)Side_get_slots, NULL, "Text arena slots handed out so far.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PySequenceMethods Side_as_sequence = {
    .sq_length = (lenfunc)Side_len,
};

static PyNumberMethods Side_as_number = {
    .nb_bool = (inquiry)Side_bool,
};

static PyTypeObject SideType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "binance._cbook.Side",
    .tp_basicsize = sizeof(Side),
    .tp_itemsize = 0,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)Side_traverse,
    .tp_clear = (inquiry)Side_clear_refs,
    .tp_doc = PyDoc_STR("Side(side)\n--\n\nOne order book side in C; see binance.orderbook."),
    .tp_new = Side_new,
    .tp_init = (initproc)Side_init,
    .tp_dealloc = (destructor)Side_dealloc,
    .tp_methods = Side_methods,
    .tp_getset = Side_getset,
    .tp_as_sequence = &Side_as_sequence,
    .tp_as_number = &Side_as_number,
};

/* -- binance._depthsync.DepthSync's hot path ------------------------------------------------ */

/* The base class of DepthSync: the state on_event's common case reads and writes, kept in C
 * members that the Python code uses as ordinary attributes. */
typedef struct {
    PyObject_HEAD
    PyObject *symbol;        /* symbol: the upper-case symbol */
    PyObject *check_crossed; /* check_crossed */
    PyObject *id;            /* _id: the book's update id, or None */
    PyObject *event_time;    /* _event_time: E of the last applied event, or None */
    PyObject *hot_bids;      /* _hot_bids, _hot_asks: the book's sides while the fast path */
    PyObject *hot_asks;      /*   may run (SYNCED, no refresh log), else None */
    PyObject *applied;       /* _applied: the Applied class (a tuple subclass) */
    PyObject *result;        /* the last Applied returned, reused once the caller drops it */
    Py_ssize_t events_applied;
} SyncCore;

static PyObject *str_on_event_rules = NULL; /* "_on_event" */
static PyObject *str_bad_levels = NULL;     /* "_bad_levels" */
static PyObject *str_crossed_after = NULL;  /* "_crossed_after" */
static PyObject *str_read_locked = NULL;    /* "_read_locked" */
static PyObject *str_limit = NULL;          /* "limit" */

/* An exact int's value, or 0 with *ok = 0 if not an int that fits. */
static long long
int_of(PyObject *obj, int *ok)
{
    if (obj == NULL || !PyLong_CheckExact(obj)) {
        *ok = 0;
        return 0;
    }
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow || (v == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        *ok = 0;
    }
    return v;
}

/* Applied(first, last, time, 1). The previous one is refilled when nothing but this object
 * refers to it any more (as zip() does with its tuples): nobody can observe the change. */
static PyObject *
applied_result(SyncCore *self, PyTypeObject *applied, PyObject *first, PyObject *last,
               PyObject *time)
{
    PyObject *result = self->result;
    if (result != NULL && Py_REFCNT(result) == 1 && Py_IS_TYPE(result, applied) &&
        PyTuple_GET_SIZE(result) == 4) {
        PyObject *old[3] = {PyTuple_GET_ITEM(result, 0), PyTuple_GET_ITEM(result, 1),
                            PyTuple_GET_ITEM(result, 2)};
        PyTuple_SET_ITEM(result, 0, Py_NewRef(first));
        PyTuple_SET_ITEM(result, 1, Py_NewRef(last));
        PyTuple_SET_ITEM(result, 2, Py_NewRef(time));
        if (!PyObject_GC_IsTracked(result)) { /* the collector untracks tuples of atoms */
            PyObject_GC_Track(result);
        }
        Py_INCREF(result);
        for (int j = 0; j < 3; j++) {
            Py_DECREF(old[j]);
        }
        return result;
    }
    result = applied->tp_alloc(applied, 4);
    if (result == NULL) {
        return NULL;
    }
    PyTuple_SET_ITEM(result, 0, Py_NewRef(first));
    PyTuple_SET_ITEM(result, 1, Py_NewRef(last));
    PyTuple_SET_ITEM(result, 2, Py_NewRef(time));
    PyTuple_SET_ITEM(result, 3, Py_NewRef(one));
    Py_XSETREF(self->result, Py_NewRef(result));
    return result;
}

/* The common case of on_event, or NotImplemented (nothing changed) for the Python rules. */
static PyObject *
sync_fast(SyncCore *self, PyObject *event)
{
    PyObject *bids = self->hot_bids, *asks = self->hot_asks;
    PyTypeObject *applied = (PyTypeObject *)self->applied;
    if (bids == NULL || asks == NULL || !PyObject_TypeCheck(bids, &SideType) ||
        !PyObject_TypeCheck(asks, &SideType) || !PyDict_CheckExact(event) || applied == NULL ||
        !PyType_Check(applied) || !PyType_IsSubtype(applied, &PyTuple_Type)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    /* One pass over the event's items (borrowed): cheaper than six lookups. Keys that are not
     * plain one-letter str are skipped: a missing U, u, b or a leaves it to the Python rules. */
    PyObject *first = NULL, *last = NULL, *bids_levels = NULL, *asks_levels = NULL;
    PyObject *symbol = NULL, *time = NULL, *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(event, &pos, &key, &value)) {
        if (!PyUnicode_CheckExact(key) || !PyUnicode_IS_COMPACT_ASCII(key) ||
            PyUnicode_GET_LENGTH(key) != 1) {
            continue;
        }
        switch (((const char *)PyUnicode_DATA(key))[0]) {
        case 'U': first = value; break;
        case 'u': last = value; break;
        case 'b': bids_levels = value; break;
        case 'a': asks_levels = value; break;
        case 's': symbol = value; break;
        case 'E': time = value; break;
        default: break;
        }
    }
    if (first == NULL || last == NULL || bids_levels == NULL) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *mine = self->symbol;
    int ok = asks_levels != NULL && mine != NULL;
    long long U = int_of(first, &ok), u = int_of(last, &ok), book_id = int_of(self->id, &ok);
    /* NOTES.md section 10: apply only an event that continues the book; duplicates, gaps,
     * malformed events and other symbols are the Python rules' to handle. */
    if (!ok || u <= book_id || U > book_id + 1 || u < U ||
        (symbol != NULL && symbol != Py_None &&
         !(symbol == mine || (PyUnicode_CheckExact(symbol) && PyUnicode_CheckExact(mine) &&
                              PyUnicode_Compare(symbol, mine) == 0)))) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    int check = self->check_crossed == NULL ? 1 : PyObject_IsTrue(self->check_crossed);
    if (check < 0) {
        return NULL;
    }
    /* Keep everything used below alive: applying levels may run a finalizer, which may even
     * change this object's members. */
    time = time != NULL ? time : Py_None;
    PyObject *keep[8] = {first, last, bids_levels, asks_levels, time, bids, asks,
                         (PyObject *)applied};
    for (int j = 0; j < 8; j++) {
        Py_INCREF(keep[j]);
    }
    PyObject *result = NULL;
    if (update_side((Side *)bids, bids_levels) < 0 || update_side((Side *)asks, asks_levels) < 0) {
        if (PyErr_ExceptionMatches(PyExc_TypeError) || PyErr_ExceptionMatches(PyExc_ValueError)) {
            /* Bad levels, the book partly changed: the Python side resyncs. */
            PyObject *type, *value, *tb;
            PyErr_Fetch(&type, &value, &tb);
            PyErr_NormalizeException(&type, &value, &tb);
            if (value != NULL) {
                result = PyObject_CallMethodObjArgs((PyObject *)self, str_bad_levels, last,
                                                    value, NULL);
            }
            Py_XDECREF(type);
            Py_XDECREF(value);
            Py_XDECREF(tb);
        }
    }
    else {
        Py_XSETREF(self->id, Py_NewRef(last));
        Py_XSETREF(self->event_time, Py_NewRef(time));
        self->events_applied++;
        if (check && crosses((Side *)bids, (Side *)asks)) {
            result = PyObject_CallMethodOneArg((PyObject *)self, str_crossed_after, last);
        }
        else {
            result = applied_result(self, applied, first, last, time);
        }
    }
    for (int j = 0; j < 8; j++) {
        Py_DECREF(keep[j]);
    }
    return result;
}

PyDoc_STRVAR(sync_on_event_doc,
"on_event($self, event, /)\n--\n\n"
"Feed one diff event: a parsed depthUpdate payload (U, u, b, a).\n\n"
"Returns Applied if the book changed, NeedSnapshot on the first buffered event, Resync if\n"
"the book had to be discarded, None if the event was buffered or ignored. Raises ValueError\n"
"for an event of another symbol or without U/u. A synced book of C sides takes an event that\n"
"continues it in C; every other case runs DepthSync's rules in Python (_on_event).");

static PyObject *
SyncCore_on_event(SyncCore *self, PyObject *event)
{
    PyObject *result = sync_fast(self, event);
    if (result != Py_NotImplemented) {
        return result;
    }
    Py_DECREF(result);
    return PyObject_CallMethodOneArg((PyObject *)self, str_on_event_rules, event);
}

static int
SyncCore_traverse(SyncCore *self, visitproc visit, void *arg)
{
    Py_VISIT(self->symbol);
    Py_VISIT(self->check_crossed);
    Py_VISIT(self->id);
    Py_VISIT(self->event_time);
    Py_VISIT(self->hot_bids);
    Py_VISIT(self->hot_asks);
    Py_VISIT(self->applied);
    Py_VISIT(self->result);
    return 0;
}

static int
SyncCore_clear(SyncCore *self)
{
    Py_CLEAR(self->symbol);
    Py_CLEAR(self->check_crossed);
    Py_CLEAR(self->id);
    Py_CLEAR(self->event_time);
    Py_CLEAR(self->hot_bids);
    Py_CLEAR(self->hot_asks);
    Py_CLEAR(self->applied);
    Py_CLEAR(self->result);
    return 0;
}

static void
SyncCore_dealloc(SyncCore *self)
{
    PyObject_GC_UnTrack(self);
    SyncCore_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef SyncCore_methods[] = {
    {"on_event", (PyCFunction)SyncCore_on_event, METH_O, sync_on_event_doc},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef SyncCore_members[] = {
    {"symbol", T_OBJECT, offsetof(SyncCore, symbol), 0, "The symbol, upper case."},
    {"check_crossed", T_OBJECT, offsetof(SyncCore, check_crossed), 0,
     "Resync when the best bid reaches the best ask after an event."},
    {"_id", T_OBJECT, offsetof(SyncCore, id), 0, NULL},
    {"_event_time", T_OBJECT, offsetof(SyncCore, event_time), 0, NULL},
    {"_hot_bids", T_OBJECT, offsetof(SyncCore, hot_bids), 0, NULL},
    {"_hot_asks", T_OBJECT, offsetof(SyncCore, hot_asks), 0, NULL},
    {"_applied", T_OBJECT, offsetof(SyncCore, applied), 0, NULL},
    {"events_applied", T_PYSSIZET, offsetof(SyncCore, events_applied), 0,
     "Diff events applied to the book."},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject SyncCoreType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "binance._cbook.SyncCore",
    .tp_basicsize = sizeof(SyncCore),
    .tp_itemsize = 0,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)SyncCore_traverse,
    .tp_clear = (inquiry)SyncCore_clear,
    .tp_doc = PyDoc_STR("Base class of binance._depthsync.DepthSync: on_event's common case."),
    .tp_new = PyType_GenericNew,
    .tp_dealloc = (destructor)SyncCore_dealloc,
    .tp_methods = SyncCore_methods,
    .tp_members = SyncCore_members,
};

/* -- binance.depthcache.DepthCache's reads -------------------------------------------------- */

/* The base class of DepthCache: get_bids/get_asks read C sides in one call, without a lock
 * (no update can interleave with it under the GIL); other sides go to _read_locked. */
typedef struct {
    PyObject_HEAD
    PyObject *book;        /* book: the OrderBook */
    PyObject *use_decimal; /* use_decimal */
} DepthReads;

static PyObject *
reads_side(DepthReads *self, PyObject *name, PyObject *const *args, Py_ssize_t nargs,
           PyObject *kwnames)
{
    PyObject *limit = nargs ? args[0] : Py_None;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    if (nargs + nkw > 1) {
        PyErr_SetString(PyExc_TypeError, "takes at most one argument (limit)");
        return NULL;
    }
    if (nkw) {
        PyObject *kw = PyTuple_GET_ITEM(kwnames, 0);
        if (!(kw == str_limit || PyUnicode_Compare(kw, str_limit) == 0)) {
            if (!PyErr_Occurred()) {
                PyErr_Format(PyExc_TypeError, "unexpected keyword argument %R", kw);
            }
            return NULL;
        }
        limit = args[0];
    }
    if (self->book == NULL) {
        PyErr_SetString(PyExc_AttributeError, "the cache has no book");
        return NULL;
    }
    PyObject *side = PyObject_GetAttr(self->book, name);
    if (side == NULL) {
        return NULL;
    }
    PyObject *result;
    if (PyObject_TypeCheck(side, &SideType)) {
        Py_ssize_t k;
        int decimal = self->use_decimal == NULL ? 0 : PyObject_IsTrue(self->use_decimal);
        result = decimal < 0 || parse_k(limit, &k) < 0 ? NULL : read_rows((Side *)side, k, decimal);
    }
    else {
        result = PyObject_CallMethodObjArgs((PyObject *)self, str_read_locked, name, limit, NULL);
    }
    Py_DECREF(side);
    return result;
}

PyDoc_STRVAR(get_bids_doc,
"get_bids($self, /, limit=None)\n--\n\n"
"The bids, highest price first, as [price, quantity] lists (floats, or Decimal with\n"
"use_decimal); only the best `limit` levels if given (O(limit)). Levels past the range the\n"
"last snapshot vouched for are left out; empty while the cache has no book.");

static PyObject *
DepthReads_get_bids(DepthReads *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return reads_side(self, str_bids, args, nargs, kwnames);
}

PyDoc_STRVAR(get_asks_doc,
"get_asks($self, /, limit=None)\n--\n\n"
"The asks, lowest price first, as [price, quantity] lists (floats, or Decimal with\n"
"use_decimal); only the best `limit` levels if given (O(limit)). Levels past the range the\n"
"last snapshot vouched for are left out; empty while the cache has no book.");

static PyObject *
DepthReads_get_asks(DepthReads *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return reads_side(self, str_asks, args, nargs, kwnames);
}

static int
DepthReads_traverse(DepthReads *self, visitproc visit, void *arg)
{
    Py_VISIT(self->book);
    Py_VISIT(self->use_decimal);
    return 0;
}

static int
DepthReads_clear(DepthReads *self)
{
    Py_CLEAR(self->book);
    Py_CLEAR(self->use_decimal);
    return 0;
}

static void
DepthReads_dealloc(DepthReads *self)
{
    PyObject_GC_UnTrack(self);
    DepthReads_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef DepthReads_methods[] = {
    {"get_bids", (PyCFunction)(void (*)(void))DepthReads_get_bids, METH_FASTCALL | METH_KEYWORDS,
     get_bids_doc},
    {"get_asks", (PyCFunction)(void (*)(void))DepthReads_get_asks, METH_FASTCALL | METH_KEYWORDS,
     get_asks_doc},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef DepthReads_members[] = {
    {"book", T_OBJECT, offsetof(DepthReads, book), 0,
     "The underlying OrderBook (for readers that want more than the seed's API)."},
    {"use_decimal", T_OBJECT, offsetof(DepthReads, use_decimal), 0,
     "Reads return Decimal values when true, floats otherwise."},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject DepthReadsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "binance._cbook.DepthReads",
    .tp_basicsize = sizeof(DepthReads),
    .tp_itemsize = 0,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)DepthReads_traverse,
    .tp_clear = (inquiry)DepthReads_clear,
    .tp_doc = PyDoc_STR("Base class of binance.depthcache.DepthCache: its reads in C."),
    .tp_new = PyType_GenericNew,
    .tp_dealloc = (destructor)DepthReads_dealloc,
    .tp_methods = DepthReads_methods,
    .tp_members = DepthReads_members,
};

static struct PyModuleDef cbook_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "binance._cbook",
    .m_doc = "C core of binance.orderbook's CBookSide (optional accelerator).",
    .m_size = -1,
    .m_methods = NULL,
};

PyMODINIT_FUNC
PyInit__cbook(void)
{
    PyObject *decimal = PyImport_ImportModule("decimal");
    if (decimal == NULL) {
        return NULL;
    }
    Decimal = PyObject_GetAttrString(decimal, "Decimal");
    Py_DECREF(decimal);
    if (Decimal == NULL) {
        return NULL;
    }
    str_f = PyUnicode_InternFromString("f");
    str_bids = PyUnicode_InternFromString("bids");
    str_asks = PyUnicode_InternFromString("asks");
    str_decimal = PyUnicode_InternFromString("decimal");
    str_k = PyUnicode_InternFromString("k");
    str_a = PyUnicode_InternFromString("a");
    str_b = PyUnicode_InternFromString("b");
    if (!str_f || !str_bids || !str_asks || !str_decimal || !str_k || !str_a || !str_b) {
        return NULL;
    }
    one = PyLong_FromLong(1);
    if (one == NULL) {
        return NULL;
    }
    str_on_event_rules = PyUnicode_InternFromString("_on_event");
    str_bad_levels = PyUnicode_InternFromString("_bad_levels");
    str_crossed_after = PyUnicode_InternFromString("_crossed_after");
    str_read_locked = PyUnicode_InternFromString("_read_locked");
    str_limit = PyUnicode_InternFromString("limit");
    if (!str_on_event_rules || !str_bad_levels || !str_crossed_after || !str_read_locked ||
        !str_limit) {
        return NULL;
    }
    if (PyType_Ready(&SideType) < 0 || PyType_Ready(&SyncCoreType) < 0 ||
        PyType_Ready(&DepthReadsType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&cbook_module);
    if (m == NULL) {
        return NULL;
    }
    Py_INCREF(&SideType);
    if (PyModule_AddObject(m, "Side", (PyObject *)&SideType) < 0) {
        Py_DECREF(&SideType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&SyncCoreType);
    if (PyModule_AddObject(m, "SyncCore", (PyObject *)&SyncCoreType) < 0) {
        Py_DECREF(&SyncCoreType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&DepthReadsType);
    if (PyModule_AddObject(m, "DepthReads", (PyObject *)&DepthReadsType) < 0) {
        Py_DECREF(&DepthReadsType);
        Py_DECREF(m);
        return NULL;
    }
    if (PyModule_AddIntConstant(m, "BLOCK", BLOCK) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
