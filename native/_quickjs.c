/*
 * shardrun.engine._quickjs: shardrun's own CPython extension over the quickjs-ng C API.
 *
 * One Isolate is one JSRuntime with one JSContext (tenants never share a runtime).
 * Mechanism only; the policy (which modules exist, what a budget is, which errors a
 * tenant sees) stays in Python.
 *
 * Rules this file keeps:
 * - Every JSValue is freed on every path. Python handles to JS values (Value) sit on a
 *   list in their Isolate, so close() can free them all before the runtime goes.
 * - The GIL is released around every engine call that may run JS (RUN below) and taken
 *   back inside host functions and the module loader. A Value dropped by another thread
 *   while the engine runs is queued and freed by the running thread when it leaves.
 * - One thread at a time inside an Isolate: a second thread gets IsolateBusy. The same
 *   thread may re-enter (a host function calling back into JS).
 * - The interrupt handler and the rejection tracker run without the GIL and touch no
 *   Python object.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "quickjs/quickjs.h"

#ifndef SHARDRUN_ENGINE_BUILD
#error "SHARDRUN_ENGINE_BUILD must be defined by setup.py"
#endif
#ifndef JS_INTERRUPT_COUNTER_INIT
#define JS_INTERRUPT_COUNTER_INIT 10000
#endif

#define MAX_DEPTH 64            /* nesting of lists/dicts converted to JS */
#define MAX_REJECTIONS 256      /* unhandled rejections kept until taken */
#define MAX_REPORTED 256        /* taken rejections remembered for a later "handled" */
#define BC_MAGIC "SHRDQJS1"
#define BC_BUILD_LEN 64
#define BC_HEADER_LEN (8 + 1 + 3 + BC_BUILD_LEN + 8 + 32)
_Static_assert(sizeof(SHARDRUN_ENGINE_BUILD) == BC_BUILD_LEN + 1, "SHARDRUN_ENGINE_BUILD is 64 hex digits");

enum { WHY_NONE = 0, WHY_BUDGET, WHY_INTERRUPT };
enum { K_THROW = 0, K_BUDGET, K_INTERRUPT, K_OOM, K_STACK };

static PyObject *EngineError, *JSError, *BudgetExceeded, *Interrupted, *OutOfMemory,
    *StackOverflow, *IsolateBusy, *IsolateClosed, *BytecodeError;
static PyObject *sha256_func;   /* hashlib.sha256 */
/* Bytecode objects whose sha256 was checked (or that compile() made): loading one again
 * skips the hash. Bytes are immutable, and an equal object is the same content; bounded,
 * emptied when full. */
static PyObject *verified;
static Py_ssize_t verified_bytes;
#define VERIFIED_MAX_ENTRIES 1024
#define VERIFIED_MAX_BYTES ((Py_ssize_t)64 << 20)

/* ------------------------------------------------------------------ types */

typedef struct ValueObject ValueObject;

typedef struct {
    uint64_t id;
    JSValue promise;    /* held until the record is dropped */
    char *reason, *stack;
    int taken;
} Rejection;

typedef struct {
    PyObject_HEAD
    JSRuntime *rt;
    JSContext *ctx;
    int closed;
    /* who is inside */
    unsigned long owner;
    int depth;
    PyThreadState *tstate;      /* set while the engine runs with the GIL released */
    /* limits */
    atomic_int interrupt_flag;
    int armed, expired, why, cpu_known;
    int64_t budget_ns, armed_mono_ns, cpu_at_arm_ns, wall_gate_ns;
    /* Python references (traversed) */
    PyObject *funcs;            /* list of (name, callable) */
    PyObject *chunks;           /* tuple of verified script bytecode, for the chunk loader */
    PyObject *loader;
    PyObject *host_error;
    /* module loading */
    char **bare; Py_ssize_t n_bare;
    int allow_cycles;
    char **edge_from, **edge_to; size_t n_edges, cap_edges;
    char *load_base, *load_spec;   /* the importer and specifier the loader is asked about */
    /* handles */
    ValueObject *values;
    JSValue *deferred; size_t n_deferred, cap_deferred;
    /* rejections */
    Rejection *rej; size_t n_rej, cap_rej;
    uint64_t *handled; size_t n_handled, cap_handled;
    uint64_t next_rej_id;
    Py_ssize_t rejections_dropped;
    PyObject *weakreflist;
} IsolateObject;

struct ValueObject {
    PyObject_HEAD
    IsolateObject *iso;         /* strong reference */
    JSValue v;
    int linked;
    ValueObject *prev, *next;
};

static PyTypeObject IsolateType, ValueType;

/* ------------------------------------------------------------------ clocks */

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The CPU deadline. The thread's CPU clock costs a system call, so a turn reads it first at
 * its first interrupt poll (a turn shorter than one poll interval never reads it), and
 * after that only once the monotonic clock (vDSO, cheap) says the budget could be spent: a
 * thread's CPU time never runs ahead of the wall clock. The CPU time between arm() and that
 * first read is taken to be the wall time between them (an upper bound). */
static int deadline_passed(IsolateObject *s, int polling)
{
    if (s->expired)
        return 1;
    int64_t now = clock_ns(CLOCK_MONOTONIC), cpu;
    if (s->cpu_known) {
        if (now < s->wall_gate_ns)
            return 0;
        cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    } else {
        if (!polling && now - s->armed_mono_ns < s->budget_ns)
            return 0;
        cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        s->cpu_at_arm_ns = cpu - (now - s->armed_mono_ns);
        s->cpu_known = 1;
    }
    int64_t left = s->cpu_at_arm_ns + s->budget_ns - cpu;
    if (left <= 0) {
        s->expired = 1;
        s->why = WHY_BUDGET;
        return 1;
    }
    s->wall_gate_ns = now + left;
    return 0;
}

static int must_stop(IsolateObject *s, int polling)
{
    if (atomic_load_explicit(&s->interrupt_flag, memory_order_relaxed)) {
        s->why = WHY_INTERRUPT;
        return 1;
    }
    return s->armed && deadline_passed(s, polling);
}

static int on_interrupt(JSRuntime *rt, void *opaque)
{
    (void)rt;
    return must_stop((IsolateObject *)opaque, 1);
}

/* ------------------------------------------------------------------ entry */

#define RUN(self, stmt) do { \
        PyThreadState *_ts = PyEval_SaveThread(); \
        (self)->tstate = _ts; \
        stmt; \
        (self)->tstate = NULL; \
        PyEval_RestoreThread(_ts); \
    } while (0)

/* Inside a callback from the engine: take the GIL back if RUN released it. */
#define GIL_TAKE(self) PyThreadState *_cb_ts = (self)->tstate; \
    if (_cb_ts) { (self)->tstate = NULL; PyEval_RestoreThread(_cb_ts); }
#define GIL_GIVE(self) if (_cb_ts) { (self)->tstate = PyEval_SaveThread(); }

static int iso_enter(IsolateObject *self)
{
    if (self->closed) {
        PyErr_SetString(IsolateClosed, "this isolate was closed");
        return -1;
    }
    unsigned long me = PyThread_get_thread_ident();
    if (self->depth > 0) {
        if (self->owner != me) {
            PyErr_SetString(IsolateBusy, "this isolate is in use by another thread");
            return -1;
        }
        self->depth++;
        return 0;
    }
    self->owner = me;
    self->depth = 1;
    JS_UpdateStackTop(self->rt);
    return 0;
}

static void iso_leave(IsolateObject *self)
{
    if (--self->depth > 0)
        return;
    self->owner = 0;
    while (self->n_deferred > 0)
        JS_FreeValue(self->ctx, self->deferred[--self->n_deferred]);
}

static int check_open(IsolateObject *self)
{
    if (self->closed) {
        PyErr_SetString(IsolateClosed, "this isolate was closed");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ C strings */

static char *xstrdup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

/* Drop whatever exception is pending in ctx. */
static void clear_exception(JSContext *ctx)
{
    JS_FreeValue(ctx, JS_GetException(ctx));
}

/* String(val) as a malloc'd C string, or NULL; never leaves an exception pending. */
static char *cstr_of(JSContext *ctx, JSValueConst val)
{
    size_t n;
    const char *s = JS_ToCStringLen(ctx, &n, val);
    if (!s) {
        clear_exception(ctx);
        return NULL;
    }
    char *out = xstrdup(s, n);
    JS_FreeCString(ctx, s);
    return out;
}

/* obj[prop] as a C string when it is a string, else NULL. */
static char *str_prop(JSContext *ctx, JSValueConst obj, const char *prop)
{
    JSValue v = JS_GetPropertyStr(ctx, obj, prop);
    char *out = NULL;
    if (JS_IsException(v))
        clear_exception(ctx);
    else if (JS_IsString(v))
        out = cstr_of(ctx, v);
    JS_FreeValue(ctx, v);
    return out;
}

/* ------------------------------------------------------------------ errors */

typedef struct {
    int kind;
    char *name, *message, *stack, *code;
} ErrInfo;

static void errinfo_free(ErrInfo *e)
{
    free(e->name); free(e->message); free(e->stack); free(e->code);
    memset(e, 0, sizeof(*e));
}

/* Take the pending exception out of ctx and describe it (no GIL needed). */
static void take_exception(IsolateObject *self, ErrInfo *e)
{
    JSContext *ctx = self->ctx;
    JSValue exc = JS_GetException(ctx);
    memset(e, 0, sizeof(*e));
    if (JS_IsUninitialized(exc) || JS_IsNull(exc)) {
        /* the engine reports some allocation failures without an exception object */
        e->kind = K_OOM;
    } else if (JS_IsUncatchableError(exc)) {
        e->kind = self->why == WHY_BUDGET ? K_BUDGET : K_INTERRUPT;
    } else if (JS_IsError(exc)) {
        e->name = str_prop(ctx, exc, "name");
        e->message = str_prop(ctx, exc, "message");
        e->stack = str_prop(ctx, exc, "stack");
        e->code = str_prop(ctx, exc, "code");
        if (e->name && e->message && !strcmp(e->name, "InternalError") && !strcmp(e->message, "out of memory"))
            e->kind = K_OOM;
        else if (e->name && e->message && !strcmp(e->name, "RangeError") &&
                 !strcmp(e->message, "Maximum call stack size exceeded"))
            e->kind = K_STACK;
    } else {
        e->message = cstr_of(ctx, exc);
    }
    JS_FreeValue(ctx, exc);
}

static void set_attr_str(PyObject *obj, const char *attr, const char *val)
{
    PyObject *v = val ? PyUnicode_DecodeUTF8(val, strlen(val), "replace") : Py_NewRef(Py_None);
    if (!v) {
        PyErr_Clear();
        return;
    }
    PyObject_SetAttrString(obj, attr, v);
    Py_DECREF(v);
}

/* Raise the Python exception for an ErrInfo; returns NULL. */
static PyObject *raise_info(ErrInfo *e)
{
    PyObject *cls = JSError;
    const char *name = e->name, *message = e->message, *code = e->code;
    switch (e->kind) {
    case K_BUDGET: cls = BudgetExceeded; name = "InternalError"; message = "CPU budget exceeded"; break;
    case K_INTERRUPT: cls = Interrupted; name = "InternalError"; message = "interrupted"; break;
    case K_OOM: cls = OutOfMemory; name = "InternalError"; message = "out of memory"; break;
    case K_STACK: cls = StackOverflow; break;
    }
    if (!name) name = "Error";
    if (!message) message = "";
    if (e->kind != K_THROW) code = NULL;
    PyObject *text = e->stack && *e->stack
        ? PyUnicode_FromFormat("%s: %s\n%s", name, message, e->stack)
        : PyUnicode_FromFormat("%s: %s", name, message);
    if (!text) {
        PyErr_Clear();
        text = PyUnicode_FromString("JS error (unprintable)");
        if (!text) return NULL;
    }
    PyObject *exc = PyObject_CallOneArg(cls, text);
    Py_DECREF(text);
    if (!exc)
        return NULL;
    set_attr_str(exc, "name", name);
    set_attr_str(exc, "message", message);
    set_attr_str(exc, "stack", e->stack ? e->stack : "");
    if (code || e->kind == K_THROW)
        set_attr_str(exc, "code", code);
    PyErr_SetObject(cls, exc);
    Py_DECREF(exc);
    return NULL;
}

/* Turn the exception pending in the engine into a Python exception; returns NULL. */
static PyObject *raise_js(IsolateObject *self)
{
    ErrInfo e;
    RUN(self, take_exception(self, &e));   /* reading .stack may run JS getters */
    raise_info(&e);
    errinfo_free(&e);
    return NULL;
}

static PyObject *raise_kind(int kind)
{
    ErrInfo e = {0};
    e.kind = kind;
    return raise_info(&e);
}

/* Before running JS: a turn whose budget is spent, or an interrupted isolate, runs nothing. */
static int refuse_if_stopped(IsolateObject *self)
{
    if (must_stop(self, 0)) {
        raise_kind(self->why == WHY_BUDGET ? K_BUDGET : K_INTERRUPT);
        return -1;
    }
    return 0;
}

/* The Python exception pending now becomes a JS Error thrown in ctx, with a stable
 * `code`: the exception's own `code` when it is an "E_..." string, else E_INTERNAL.
 * The exception itself is kept in Isolate.host_error for the host's logs. GIL held. */
/* The pending Python exception as a JS Error with a `code` ("E_INTERNAL" unless the exception
 * has an "E_..." `code`): "<what> '<fname>' failed: <message>" (the message only when `show` or
 * coded). what == NULL is the module loader: a coded exception's message stands alone (it is
 * the loader's own account of the import). */
static JSValue throw_host_error(IsolateObject *self, const char *what, const char *fname, int show)
{
    int own_words = what == NULL;
    if (own_words)
        what = "module loader for";
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value && (PyErr_GivenExceptionMatches(value, BudgetExceeded) || PyErr_GivenExceptionMatches(value, Interrupted))) {
        /* a nested call hit the deadline or the interrupt: JS must not catch that either */
        Py_XDECREF(type); Py_XDECREF(value); Py_XDECREF(tb);
        JS_ThrowInternalError(self->ctx, "interrupted");
        JSValue exc = JS_GetException(self->ctx);
        JS_SetUncatchableError(self->ctx, exc);
        return JS_Throw(self->ctx, exc);
    }
    if (value && tb)
        PyException_SetTraceback(value, tb);
    const char *code = "E_INTERNAL";
    PyObject *code_obj = NULL, *msg_obj = NULL, *text = NULL;
    if (value) {
        code_obj = PyObject_GetAttrString(value, "code");
        if (code_obj && PyUnicode_Check(code_obj)) {
            const char *c = PyUnicode_AsUTF8(code_obj);
            if (c && c[0] == 'E' && c[1] == '_') {
                code = c;
                show = 1;   /* a coded error says what the tenant may know */
            } else {
                own_words = 0;
            }
        } else {
            own_words = 0;
        }
        PyErr_Clear();
        if (show) {
            msg_obj = PyObject_GetAttrString(value, "message");
            if (!msg_obj || !PyUnicode_Check(msg_obj)) {
                PyErr_Clear();
                Py_XDECREF(msg_obj);
                msg_obj = PyObject_Str(value);
            }
        }
        PyErr_Clear();
    }
    const char *tname = type ? ((PyTypeObject *)type)->tp_name : "error";
    if (msg_obj && PyUnicode_Check(msg_obj) && own_words)
        text = Py_NewRef(msg_obj);
    else if (msg_obj && PyUnicode_Check(msg_obj))
        text = PyUnicode_FromFormat("%s '%s' failed: %U", what, fname, msg_obj);
    else
        text = PyUnicode_FromFormat("%s '%s' failed (%s)", what, fname, tname);
    const char *ctext = text ? PyUnicode_AsUTF8(text) : NULL;
    PyErr_Clear();
    JS_ThrowPlainError(self->ctx, "%s", ctext ? ctext : "host function failed");
    JSValue err = JS_GetException(self->ctx);
    if (JS_IsObject(err))
        JS_SetPropertyStr(self->ctx, err, "code", JS_NewString(self->ctx, code));
    Py_XDECREF(code_obj);
    Py_XDECREF(msg_obj);
    Py_XDECREF(text);
    Py_XSETREF(self->host_error, value);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return JS_Throw(self->ctx, err);
}

/* ------------------------------------------------------------------ values */

static PyObject *new_value(IsolateObject *iso, JSValue v)   /* takes v */
{
    ValueObject *o = PyObject_GC_New(ValueObject, &ValueType);
    if (!o) {
        JS_FreeValue(iso->ctx, v);
        return NULL;
    }
    o->iso = (IsolateObject *)Py_NewRef(iso);
    o->v = v;
    o->prev = NULL;
    o->next = iso->values;
    if (iso->values)
        iso->values->prev = o;
    iso->values = o;
    o->linked = 1;
    PyObject_GC_Track(o);
    return (PyObject *)o;
}

static void value_unlink(ValueObject *o)
{
    IsolateObject *iso = o->iso;
    if (!o->linked)
        return;
    if (o->prev) o->prev->next = o->next;
    else iso->values = o->next;
    if (o->next) o->next->prev = o->prev;
    o->prev = o->next = NULL;
    o->linked = 0;
}

static void value_release(ValueObject *o)
{
    IsolateObject *iso = o->iso;
    if (!iso || !o->linked)
        return;
    value_unlink(o);
    JSValue v = o->v;
    o->v = JS_UNDEFINED;
    if (iso->closed)
        return;
    if (iso->depth > 0 && iso->owner != PyThread_get_thread_ident()) {
        /* another thread runs the engine: it frees this when it leaves */
        if (iso->n_deferred == iso->cap_deferred) {
            size_t cap = iso->cap_deferred ? iso->cap_deferred * 2 : 16;
            JSValue *d = PyMem_Realloc(iso->deferred, cap * sizeof(JSValue));
            if (!d)
                return;   /* leak one value rather than race the engine */
            iso->deferred = d;
            iso->cap_deferred = cap;
        }
        iso->deferred[iso->n_deferred++] = v;
        return;
    }
    JS_FreeValue(iso->ctx, v);
}

/* ------------------------------------------------------------------ conversion */

static int py_to_js(IsolateObject *self, PyObject *obj, JSValue *out, int depth);

static int js_failed(IsolateObject *self)
{
    raise_js(self);
    return -1;
}

static int py_seq_to_js(IsolateObject *self, PyObject *obj, JSValue *out, int depth)
{
    JSContext *ctx = self->ctx;
    PyObject *seq = PySequence_Fast(obj, "expected a sequence");
    if (!seq)
        return -1;
    JSValue arr = JS_NewArray(ctx);
    if (JS_IsException(arr)) {
        Py_DECREF(seq);
        return js_failed(self);
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        JSValue item;
        if (py_to_js(self, PySequence_Fast_GET_ITEM(seq, i), &item, depth + 1) < 0)
            goto fail;
        if (JS_SetPropertyUint32(ctx, arr, (uint32_t)i, item) < 0) {
            js_failed(self);
            goto fail;
        }
    }
    Py_DECREF(seq);
    *out = arr;
    return 0;
fail:
    Py_DECREF(seq);
    JS_FreeValue(ctx, arr);
    return -1;
}

static int py_dict_to_js(IsolateObject *self, PyObject *obj, JSValue *out, int depth)
{
    JSContext *ctx = self->ctx;
    JSValue o = JS_NewObject(ctx);
    if (JS_IsException(o))
        return js_failed(self);
    PyObject *key, *val;
    Py_ssize_t pos = 0;
    while (PyDict_Next(obj, &pos, &key, &val)) {
        if (!PyUnicode_Check(key)) {
            PyErr_Format(PyExc_TypeError, "dict keys passed to JS must be str, not %.80s", Py_TYPE(key)->tp_name);
            goto fail;
        }
        Py_ssize_t klen;
        const char *k = PyUnicode_AsUTF8AndSize(key, &klen);
        if (!k)
            goto fail;
        JSValue item;
        if (py_to_js(self, val, &item, depth + 1) < 0)
            goto fail;
        JSAtom atom = JS_NewAtomLen(ctx, k, (size_t)klen);
        if (atom == JS_ATOM_NULL) {
            JS_FreeValue(ctx, item);
            js_failed(self);
            goto fail;
        }
        int r = JS_SetProperty(ctx, o, atom, item);
        JS_FreeAtom(ctx, atom);
        if (r < 0) {
            js_failed(self);
            goto fail;
        }
    }
    *out = o;
    return 0;
fail:
    JS_FreeValue(ctx, o);
    return -1;
}

/* None -> null, bool, int (|x| <= 2**53), float, str, bytes-like -> Uint8Array (a copy),
 * list/tuple -> Array, dict (str keys) -> Object, Value -> itself. */
static int py_to_js(IsolateObject *self, PyObject *obj, JSValue *out, int depth)
{
    JSContext *ctx = self->ctx;
    if (depth > MAX_DEPTH) {
        PyErr_SetString(PyExc_ValueError, "value nested too deeply to pass to JS");
        return -1;
    }
    if (obj == Py_None) { *out = JS_NULL; return 0; }
    if (PyBool_Check(obj)) { *out = JS_NewBool(ctx, obj == Py_True); return 0; }
    if (PyLong_Check(obj)) {
        int overflow;
        long long x = PyLong_AsLongLongAndOverflow(obj, &overflow);
        if (x == -1 && PyErr_Occurred())
            return -1;
        if (overflow || x > (1LL << 53) || x < -(1LL << 53)) {
            PyErr_SetString(PyExc_OverflowError, "int too large for a JS number (more than 2**53)");
            return -1;
        }
        *out = JS_NewInt64(ctx, x);
        return 0;
    }
    if (PyFloat_Check(obj)) { *out = JS_NewFloat64(ctx, PyFloat_AS_DOUBLE(obj)); return 0; }
    if (PyUnicode_Check(obj)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(obj, &n);
        if (!s)
            return -1;
        *out = JS_NewStringLen(ctx, s, (size_t)n);
        return JS_IsException(*out) ? js_failed(self) : 0;
    }
    if (PyBytes_Check(obj)) {
        *out = JS_NewUint8ArrayCopy(ctx, (const uint8_t *)PyBytes_AS_STRING(obj), (size_t)PyBytes_GET_SIZE(obj));
        return JS_IsException(*out) ? js_failed(self) : 0;
    }
    if (PyObject_TypeCheck(obj, &ValueType)) {
        ValueObject *v = (ValueObject *)obj;
        if (v->iso != self || !v->linked) {
            PyErr_SetString(PyExc_TypeError, "this JS value belongs to another (or a closed) isolate");
            return -1;
        }
        *out = JS_DupValue(ctx, v->v);
        return 0;
    }
    if (PyList_Check(obj) || PyTuple_Check(obj))
        return py_seq_to_js(self, obj, out, depth);
    if (PyDict_Check(obj))
        return py_dict_to_js(self, obj, out, depth);
    if (PyObject_CheckBuffer(obj)) {
        Py_buffer view;
        if (PyObject_GetBuffer(obj, &view, PyBUF_CONTIG_RO) < 0)
            return -1;
        *out = JS_NewUint8ArrayCopy(ctx, view.buf, (size_t)view.len);
        PyBuffer_Release(&view);
        return JS_IsException(*out) ? js_failed(self) : 0;
    }
    PyErr_Format(PyExc_TypeError, "cannot pass a %.80s to JS", Py_TYPE(obj)->tp_name);
    return -1;
}

/* undefined/null -> None, bool, int, float, str, BigInt -> int, Uint8Array/ArrayBuffer ->
 * bytes (a copy); any other value (objects, arrays, functions, symbols) -> Value. */
static PyObject *js_to_py(IsolateObject *self, JSValueConst v)
{
    JSContext *ctx = self->ctx;
    int tag = JS_VALUE_GET_NORM_TAG(v);
    switch (tag) {
    case JS_TAG_INT: return PyLong_FromLong(JS_VALUE_GET_INT(v));
    case JS_TAG_BOOL: return PyBool_FromLong(JS_VALUE_GET_BOOL(v));
    case JS_TAG_NULL:
    case JS_TAG_UNDEFINED:
    case JS_TAG_UNINITIALIZED: Py_RETURN_NONE;
    case JS_TAG_FLOAT64: return PyFloat_FromDouble(JS_VALUE_GET_FLOAT64(v));
    }
    if (JS_IsString(v)) {
        size_t n;
        const char *s = JS_ToCStringLen(ctx, &n, v);
        if (!s)
            return raise_js(self);
        PyObject *r = PyUnicode_DecodeUTF8(s, (Py_ssize_t)n, "surrogatepass");
        JS_FreeCString(ctx, s);
        return r;
    }
    if (JS_IsBigInt(v)) {
        const char *s = JS_ToCString(ctx, v);
        if (!s)
            return raise_js(self);
        PyObject *r = PyLong_FromString(s, NULL, 10);
        JS_FreeCString(ctx, s);
        return r;
    }
    if (JS_IsObject(v)) {
        size_t n;
        uint8_t *p = NULL;
        int is_bin = 0;
        if (JS_GetTypedArrayType(v) == JS_TYPED_ARRAY_UINT8) {
            is_bin = 1;
            p = JS_GetUint8Array(ctx, &n, v);
        } else if (JS_IsArrayBuffer(v)) {
            is_bin = 1;
            p = JS_GetArrayBuffer(ctx, &n, v);
        }
        if (is_bin) {
            if (!p) {   /* detached */
                clear_exception(ctx);
                return PyBytes_FromStringAndSize("", 0);
            }
            return PyBytes_FromStringAndSize((const char *)p, (Py_ssize_t)n);
        }
    }
    return new_value(self, JS_DupValue(ctx, v));
}

static PyObject *js_to_py_free(IsolateObject *self, JSValue v)
{
    PyObject *r = js_to_py(self, v);
    JS_FreeValue(self->ctx, v);
    return r;
}

/* ------------------------------------------------------------------ host functions */

static JSValue host_call(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int magic)
{
    (void)this_val;
    IsolateObject *self = JS_GetContextOpaque(ctx);
    JSValue ret = JS_UNDEFINED;
    GIL_TAKE(self);
    PyObject *entry = NULL, *args = NULL, *res = NULL;
    const char *fname = "?";
    int show = 0;
    if (self->funcs && magic >= 0 && magic < PyList_GET_SIZE(self->funcs))
        entry = PyList_GET_ITEM(self->funcs, magic);
    if (!entry) {
        ret = JS_ThrowInternalError(ctx, "this host function is gone");
        goto done;
    }
    Py_INCREF(entry);
    fname = PyUnicode_AsUTF8(PyTuple_GET_ITEM(entry, 0));
    args = PyTuple_New(argc);
    if (!args)
        goto failed;
    for (int i = 0; i < argc; i++) {
        PyObject *a = js_to_py(self, argv[i]);
        if (!a)
            goto failed;
        PyTuple_SET_ITEM(args, i, a);
    }
    res = PyObject_Call(PyTuple_GET_ITEM(entry, 1), args, NULL);
    if (!res)
        goto failed;
    if (py_to_js(self, res, &ret, 0) < 0) {
        show = 1;   /* our own message: the value JS cannot take */
        goto failed;
    }
    goto done;
failed:
    ret = throw_host_error(self, "host function", fname ? fname : "?", show);
done:
    Py_XDECREF(res);
    Py_XDECREF(args);
    Py_XDECREF(entry);
    GIL_GIVE(self);
    return ret;
}

/* ------------------------------------------------------------------ rejections */

static void rejection_free(JSContext *ctx, Rejection *r)
{
    JS_FreeValue(ctx, r->promise);
    free(r->reason);
    free(r->stack);
}

static void rejection_remove(IsolateObject *self, size_t i)
{
    rejection_free(self->ctx, &self->rej[i]);
    memmove(&self->rej[i], &self->rej[i + 1], (self->n_rej - i - 1) * sizeof(Rejection));
    self->n_rej--;
}

static void on_rejection(JSContext *ctx, JSValueConst promise, JSValueConst reason, bool is_handled, void *opaque)
{
    IsolateObject *self = opaque;
    if (is_handled) {
        for (size_t i = 0; i < self->n_rej; i++) {
            if (JS_VALUE_GET_PTR(self->rej[i].promise) != JS_VALUE_GET_PTR(promise))
                continue;
            if (self->rej[i].taken && self->n_handled < MAX_REPORTED) {
                if (self->n_handled == self->cap_handled) {
                    size_t cap = self->cap_handled ? self->cap_handled * 2 : 8;
                    uint64_t *h = realloc(self->handled, cap * sizeof(uint64_t));
                    if (!h) break;
                    self->handled = h;
                    self->cap_handled = cap;
                }
                self->handled[self->n_handled++] = self->rej[i].id;
            }
            rejection_remove(self, i);
            break;
        }
        return;
    }
    size_t pending = 0;
    for (size_t i = 0; i < self->n_rej; i++)
        pending += !self->rej[i].taken;
    if (pending >= MAX_REJECTIONS) {
        self->rejections_dropped++;
        return;
    }
    if (self->n_rej == self->cap_rej) {
        size_t cap = self->cap_rej ? self->cap_rej * 2 : 8;
        Rejection *r = realloc(self->rej, cap * sizeof(Rejection));
        if (!r) {
            self->rejections_dropped++;
            return;
        }
        self->rej = r;
        self->cap_rej = cap;
    }
    JSValue saved = JS_GetException(ctx);  /* describing the reason must not eat an exception */
    Rejection *r = &self->rej[self->n_rej++];
    r->id = ++self->next_rej_id;
    r->promise = JS_DupValue(ctx, promise);
    r->taken = 0;
    r->stack = NULL;
    if (JS_IsError(reason)) {
        char *name = str_prop(ctx, reason, "name"), *msg = str_prop(ctx, reason, "message");
        size_t n = (name ? strlen(name) : 5) + (msg ? strlen(msg) : 0) + 3;
        r->reason = malloc(n);
        if (r->reason)
            snprintf(r->reason, n, "%s: %s", name ? name : "Error", msg ? msg : "");
        free(name);
        free(msg);
        r->stack = str_prop(ctx, reason, "stack");
    } else {
        r->reason = cstr_of(ctx, reason);
    }
    if (!JS_IsUninitialized(saved))
        JS_Throw(ctx, saved);
}

/* ------------------------------------------------------------------ modules */

/* An import the loader refuses: an Error with code "E_IMPORT" (fmt takes up to three strings). */
static JSValue throw_import(JSContext *ctx, const char *fmt, const char *a, const char *b, const char *c)
{
    JS_ThrowPlainError(ctx, fmt, a, b, c);
    JSValue err = JS_GetException(ctx);
    if (JS_IsObject(err))
        JS_SetPropertyStr(ctx, err, "code", JS_NewString(ctx, "E_IMPORT"));
    return JS_Throw(ctx, err);
}

/* "file:...", "https://...", "data:...": a URL scheme before any '/' */
static int has_scheme(const char *spec)
{
    const char *p = spec;
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
        return 0;
    while (*p && *p != ':' && *p != '/') {
        char ch = *p++;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '+' ||
              ch == '-' || ch == '.'))
            return 0;
    }
    return *p == ':';
}

static int edge_index(IsolateObject *s, const char *from, const char *to)
{
    for (size_t i = 0; i < s->n_edges; i++)
        if (!strcmp(s->edge_from[i], from) && !strcmp(s->edge_to[i], to))
            return (int)i;
    return -1;
}

/* A path of imports from `from` to `to`, written into path (names, at most max); its length, or 0. */
static int find_path(IsolateObject *s, const char *from, const char *to, const char **path, int depth, int max)
{
    if (depth >= max)
        return 0;
    path[depth] = from;
    if (!strcmp(from, to))
        return depth + 1;
    for (size_t i = 0; i < s->n_edges; i++) {
        if (strcmp(s->edge_from[i], from))
            continue;
        int seen = 0;
        for (int k = 0; k <= depth; k++)
            seen |= !strcmp(path[k], s->edge_to[i]);
        if (seen && strcmp(s->edge_to[i], to))
            continue;
        int n = find_path(s, s->edge_to[i], to, path, depth + 1, max);
        if (n)
            return n;
    }
    return 0;
}

static int add_edge(IsolateObject *s, const char *from, const char *to)
{
    if (edge_index(s, from, to) >= 0)
        return 0;
    if (s->n_edges == s->cap_edges) {
        size_t cap = s->cap_edges ? s->cap_edges * 2 : 16;
        char **f = realloc(s->edge_from, cap * sizeof(char *));
        if (!f) return -1;
        s->edge_from = f;
        char **t = realloc(s->edge_to, cap * sizeof(char *));
        if (!t) return -1;
        s->edge_to = t;
        s->cap_edges = cap;
    }
    char *a = xstrdup(from, strlen(from)), *b = xstrdup(to, strlen(to));
    if (!a || !b) {
        free(a); free(b);
        return -1;
    }
    s->edge_from[s->n_edges] = a;
    s->edge_to[s->n_edges] = b;
    s->n_edges++;
    return 0;
}

/* "./x.js" and "../x.js" relative to the importing module's directory; absolute paths are
 * refused, bare specifiers unless set_module_loader named them. The result is what the
 * Python loader receives. */
static char *mod_normalize(JSContext *ctx, const char *base, const char *spec, void *opaque)
{
    IsolateObject *self = opaque;
    size_t sl = strlen(spec);
    char *out;
    if (spec[0] == '/') {
        throw_import(ctx, "cannot import '%s' from '%s': absolute import paths are not allowed", spec, base, NULL);
        return NULL;
    }
    int relative = (sl >= 2 && spec[0] == '.' && spec[1] == '/') || (sl >= 3 && !strncmp(spec, "../", 3));
    if (!relative) {
        for (Py_ssize_t i = 0; i < self->n_bare; i++)
            if (!strcmp(self->bare[i], spec))
                goto bare_ok;
        if (has_scheme(spec))
            throw_import(ctx, "cannot import '%s' from '%s': URL specifiers are not allowed "
                              "(import the worker's own files with './' or '../')", spec, base, NULL);
        else
            throw_import(ctx, "cannot import '%s' from '%s': bare module specifiers are not allowed "
                              "(import the worker's own files with './' or '../')", spec, base, NULL);
        return NULL;
    bare_ok:
        out = js_strdup(ctx, spec);
        if (!out)
            return NULL;
        goto check_cycle;
    }
    {
        const char *slash = strrchr(base, '/');
        size_t bl = slash ? (size_t)(slash - base) + 1 : 0;
        char *buf = malloc(bl + sl + 1);
        if (!buf) {
            JS_ThrowOutOfMemory(ctx);
            return NULL;
        }
        memcpy(buf, base, bl);
        memcpy(buf + bl, spec, sl + 1);
        /* collapse "." and ".." segments in place */
        char *segs[256];
        int n = 0;
        for (char *p = buf, *tok; (tok = strsep(&p, "/")) != NULL;) {
            if (!*tok || !strcmp(tok, "."))
                continue;
            if (!strcmp(tok, "..")) {
                if (n == 0) {
                    free(buf);
                    throw_import(ctx, "cannot import '%s' from '%s': the path leaves the worker's directory", spec, base, NULL);
                    return NULL;
                }
                n--;
                continue;
            }
            if (n == 256) {
                free(buf);
                throw_import(ctx, "cannot import '%s' from '%s': the path is too deep", spec, base, NULL);
                return NULL;
            }
            segs[n++] = tok;
        }
        size_t len = 0;
        for (int i = 0; i < n; i++)
            len += strlen(segs[i]) + 1;
        out = js_malloc(ctx, len + 1);
        if (!out) {
            free(buf);
            return NULL;
        }
        char *w = out;
        for (int i = 0; i < n; i++) {
            size_t k = strlen(segs[i]);
            memcpy(w, segs[i], k);
            w += k;
            if (i + 1 < n) *w++ = '/';
        }
        *w = 0;
        free(buf);
        if (n == 0) {
            js_free(ctx, out);
            throw_import(ctx, "cannot import '%s' from '%s': not a module file", spec, base, NULL);
            return NULL;
        }
    }
check_cycle:
    if (!self->allow_cycles) {
        const char *path[64];
        int n = find_path(self, out, base, path, 0, 64);
        if (n || !strcmp(out, base)) {
            char msg[1024];
            size_t w = (size_t)snprintf(msg, sizeof msg, "%s", base);
            for (int i = 0; i < n && w < sizeof msg; i++)
                w += (size_t)snprintf(msg + w, sizeof msg - w, " -> %s", path[i]);
            if (!n && w < sizeof msg)
                snprintf(msg + w, sizeof msg - w, " -> %s", out);
            js_free(ctx, out);
            throw_import(ctx, "import cycle: %s", msg, NULL, NULL);
            return NULL;
        }
        if (add_edge(self, base, out) < 0) {
            js_free(ctx, out);
            JS_ThrowOutOfMemory(ctx);
            return NULL;
        }
    }
    free(self->load_base);
    free(self->load_spec);
    self->load_base = xstrdup(base, strlen(base));
    self->load_spec = xstrdup(spec, strlen(spec));
    return out;
}

static int verify_bytecode(PyObject *data, const uint8_t **payload, size_t *plen, char *kind);

static JSModuleDef *mod_load(JSContext *ctx, const char *name, void *opaque)
{
    IsolateObject *self = opaque;
    JSModuleDef *m = NULL;
    char *base = xstrdup(self->load_base ? self->load_base : "?", strlen(self->load_base ? self->load_base : "?"));
    char *spec = xstrdup(self->load_spec ? self->load_spec : name, strlen(self->load_spec ? self->load_spec : name));
    if (!base || !spec) {
        free(base);
        free(spec);
        JS_ThrowOutOfMemory(ctx);
        return NULL;
    }
    GIL_TAKE(self);
    PyObject *res = NULL, *loader = self->loader;
    if (!loader) {
        throw_import(ctx, "cannot import '%s' from '%s': this isolate has no module loader", name, base, NULL);
        goto done;
    }
    Py_INCREF(loader);
    res = PyObject_CallFunction(loader, "ss", name, base);
    Py_DECREF(loader);
    if (!res) {
        throw_host_error(self, NULL, name, 0);
        goto done;
    }
    if (res == Py_None) {
        throw_import(ctx, "cannot import '%s' from '%s': there is no module '%s'", spec, base, name);
    } else if (PyUnicode_Check(res)) {
        Py_ssize_t n;
        const char *src = PyUnicode_AsUTF8AndSize(res, &n);
        if (!src) {
            throw_host_error(self, "module loader for", name, 1);
            goto done;
        }
        JSValue fn;
        RUN(self, fn = JS_Eval(ctx, src, (size_t)n, name, JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY));
        if (!JS_IsException(fn)) {
            m = JS_VALUE_GET_PTR(fn);
            JS_FreeValue(ctx, fn);
        }
    } else if (PyBytes_Check(res)) {
        const uint8_t *p;
        size_t n;
        char kind;
        if (verify_bytecode(res, &p, &n, &kind) < 0) {
            throw_host_error(self, "module loader for", name, 1);
            goto done;
        }
        if (kind != 'M') {
            throw_import(ctx, "cannot import '%s' from '%s': the loader returned a script's bytecode, not a module's", name, base, NULL);
            goto done;
        }
        JSValue obj;
        RUN(self, obj = JS_ReadObject(ctx, p, n, JS_READ_OBJ_BYTECODE));
        if (JS_IsException(obj))
            goto done;
        if (JS_VALUE_GET_TAG(obj) != JS_TAG_MODULE) {
            JS_FreeValue(ctx, obj);
            throw_import(ctx, "cannot import '%s' from '%s': the bytecode is not a module", name, base, NULL);
            goto done;
        }
        m = JS_VALUE_GET_PTR(obj);
        JSAtom a = JS_GetModuleName(ctx, m);
        const char *have = JS_AtomToCString(ctx, a);
        JS_FreeAtom(ctx, a);
        if (!have || strcmp(have, name)) {
            throw_import(ctx, "cannot import '%s': the loader returned the bytecode of module '%s'", name, have ? have : "?", NULL);
            m = NULL;
        }
        if (have)
            JS_FreeCString(ctx, have);
        JS_FreeValue(ctx, obj);
    } else {
        PyErr_Format(PyExc_TypeError, "the module loader returned %.80s (str, bytes or None expected)", Py_TYPE(res)->tp_name);
        throw_host_error(self, "module loader for", name, 1);
    }
done:
    Py_XDECREF(res);
    GIL_GIVE(self);
    free(base);
    free(spec);
    return m;
}

/* ------------------------------------------------------------------ bytecode */

static PyObject *sha256_digest(const uint8_t *p, size_t n)
{
    PyObject *mv = PyMemoryView_FromMemory((char *)p, (Py_ssize_t)n, PyBUF_READ);
    if (!mv)
        return NULL;
    PyObject *h = PyObject_CallOneArg(sha256_func, mv);
    Py_DECREF(mv);
    if (!h)
        return NULL;
    PyObject *d = PyObject_CallMethod(h, "digest", NULL);
    Py_DECREF(h);
    return d;
}

static int remember_verified(PyObject *data)
{
    if (!PyBytes_CheckExact(data))
        return 0;
    if (PySet_GET_SIZE(verified) >= VERIFIED_MAX_ENTRIES || verified_bytes > VERIFIED_MAX_BYTES) {
        if (PySet_Clear(verified) < 0)
            return -1;
        verified_bytes = 0;
    }
    if (PySet_Add(verified, data) < 0)
        return -1;
    verified_bytes += PyBytes_GET_SIZE(data);
    return 0;
}

/* Layout: magic(8) kind(1: 'S' script, 'M' module) zero(3) engine build(64, hex)
 * payload length(8, little endian) sha256 of the payload(32), then the payload. */
static int verify_bytecode(PyObject *data, const uint8_t **payload, size_t *plen, char *kind)
{
    const uint8_t *buf = (const uint8_t *)PyBytes_AS_STRING(data);
    size_t len = (size_t)PyBytes_GET_SIZE(data);
    if (len < BC_HEADER_LEN || memcmp(buf, BC_MAGIC, 8)) {
        PyErr_SetString(BytecodeError, "not shardrun bytecode (no " BC_MAGIC " header)");
        return -1;
    }
    if (memcmp(buf + 12, SHARDRUN_ENGINE_BUILD, BC_BUILD_LEN)) {
        PyErr_Format(BytecodeError, "bytecode from another engine build (%.12s..., this is %.12s...): compile it again",
                     (const char *)buf + 12, SHARDRUN_ENGINE_BUILD);
        return -1;
    }
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | buf[12 + BC_BUILD_LEN + i];
    if (n != len - BC_HEADER_LEN) {
        PyErr_Format(BytecodeError, "truncated bytecode: the header says %llu bytes, %llu follow it",
                     (unsigned long long)n, (unsigned long long)(len - BC_HEADER_LEN));
        return -1;
    }
    if (buf[8] != 'S' && buf[8] != 'M') {
        PyErr_SetString(BytecodeError, "corrupt bytecode: unknown kind");
        return -1;
    }
    /* exact bytes only: a subclass could define its own equality */
    int known = PyBytes_CheckExact(data) ? PySet_Contains(verified, data) : 0;
    if (known < 0)
        return -1;
    if (!known) {
        PyObject *d = sha256_digest(buf + BC_HEADER_LEN, (size_t)n);
        if (!d)
            return -1;
        int bad = memcmp(PyBytes_AS_STRING(d), buf + 12 + BC_BUILD_LEN + 8, 32);
        Py_DECREF(d);
        if (bad) {
            PyErr_SetString(BytecodeError, "corrupt bytecode: its sha256 does not match its header");
            return -1;
        }
        if (remember_verified(data) < 0)
            return -1;
    }
    *kind = (char)buf[8];
    *payload = buf + BC_HEADER_LEN;
    *plen = (size_t)n;
    return 0;
}

static PyObject *wrap_bytecode(const uint8_t *p, size_t n, char kind)
{
    PyObject *d = sha256_digest(p, n);
    if (!d)
        return NULL;
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(BC_HEADER_LEN + n));
    if (!out) {
        Py_DECREF(d);
        return NULL;
    }
    uint8_t *w = (uint8_t *)PyBytes_AS_STRING(out);
    memcpy(w, BC_MAGIC, 8);
    w[8] = (uint8_t)kind;
    w[9] = w[10] = w[11] = 0;
    memcpy(w + 12, SHARDRUN_ENGINE_BUILD, BC_BUILD_LEN);
    for (int i = 0; i < 8; i++)
        w[12 + BC_BUILD_LEN + i] = (uint8_t)(((uint64_t)n >> (8 * i)) & 0xff);
    memcpy(w + 12 + BC_BUILD_LEN + 8, PyBytes_AS_STRING(d), 32);
    memcpy(w + BC_HEADER_LEN, p, n);
    Py_DECREF(d);
    if (remember_verified(out) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

/* ------------------------------------------------------------------ Isolate */

static void iso_free_engine(IsolateObject *self)
{
    if (!self->rt)
        return;
    while (self->values) {
        ValueObject *o = self->values;
        value_unlink(o);
        JS_FreeValue(self->ctx, o->v);
        o->v = JS_UNDEFINED;
    }
    while (self->n_deferred > 0)
        JS_FreeValue(self->ctx, self->deferred[--self->n_deferred]);
    for (size_t i = 0; i < self->n_rej; i++)
        rejection_free(self->ctx, &self->rej[i]);
    self->n_rej = 0;
    JS_FreeContext(self->ctx);
    JS_FreeRuntime(self->rt);
    self->ctx = NULL;
    self->rt = NULL;
    self->closed = 1;
}

static void iso_free_c(IsolateObject *self)
{
    for (Py_ssize_t i = 0; i < self->n_bare; i++)
        free(self->bare[i]);
    free(self->bare);
    self->bare = NULL;
    self->n_bare = 0;
    for (size_t i = 0; i < self->n_edges; i++) {
        free(self->edge_from[i]);
        free(self->edge_to[i]);
    }
    free(self->edge_from);
    free(self->edge_to);
    self->edge_from = self->edge_to = NULL;
    self->n_edges = self->cap_edges = 0;
    free(self->load_base);
    free(self->load_spec);
    self->load_base = self->load_spec = NULL;
    free(self->rej);
    self->rej = NULL;
    self->cap_rej = 0;
    free(self->handled);
    self->handled = NULL;
    self->n_handled = self->cap_handled = 0;
    PyMem_Free(self->deferred);
    self->deferred = NULL;
    self->cap_deferred = 0;
}

static int iso_traverse(IsolateObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->funcs);
    Py_VISIT(self->chunks);
    Py_VISIT(self->loader);
    Py_VISIT(self->host_error);
    return 0;
}

static int iso_clear(IsolateObject *self)
{
    Py_CLEAR(self->funcs);
    Py_CLEAR(self->chunks);
    Py_CLEAR(self->loader);
    Py_CLEAR(self->host_error);
    return 0;
}

static void iso_dealloc(IsolateObject *self)
{
    PyObject_GC_UnTrack(self);
    if (self->weakreflist)
        PyObject_ClearWeakRefs((PyObject *)self);
    iso_free_engine(self);
    iso_free_c(self);
    iso_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int iso_init(IsolateObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"memory_limit", "stack_limit", NULL};
    Py_ssize_t mem = 0, stack = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|nn:Isolate", kwlist, &mem, &stack))
        return -1;
    if (mem < 0 || stack < 0) {
        PyErr_SetString(PyExc_ValueError, "limits must be >= 0 (0: no memory limit, the engine's default stack)");
        return -1;
    }
    if (self->rt) {
        PyErr_SetString(PyExc_RuntimeError, "Isolate.__init__ called twice");
        return -1;
    }
    self->funcs = PyList_New(0);
    if (!self->funcs)
        return -1;
    self->rt = JS_NewRuntime();
    if (!self->rt) {
        PyErr_NoMemory();
        return -1;
    }
    JS_SetRuntimeOpaque(self->rt, self);
    JS_SetCanBlock(self->rt, false);      /* no Atomics.wait: a turn never blocks */
    JS_SetInterruptHandler(self->rt, on_interrupt, self);
    JS_SetHostPromiseRejectionTracker(self->rt, on_rejection, self);
    JS_SetModuleLoaderFunc(self->rt, mod_normalize, mod_load, self);
    if (stack)
        JS_SetMaxStackSize(self->rt, (size_t)stack);
    self->ctx = JS_NewContext(self->rt);
    if (!self->ctx) {
        JS_FreeRuntime(self->rt);
        self->rt = NULL;
        PyErr_NoMemory();
        return -1;
    }
    JS_SetContextOpaque(self->ctx, self);
    if (mem)
        JS_SetMemoryLimit(self->rt, (size_t)mem);
    return 0;
}

static PyObject *iso_set_memory_limit(IsolateObject *self, PyObject *arg)
{
    Py_ssize_t n = PyNumber_AsSsize_t(arg, PyExc_OverflowError);
    if (n == -1 && PyErr_Occurred()) return NULL;
    if (check_open(self) < 0) return NULL;
    if (n < 0) return PyErr_Format(PyExc_ValueError, "memory limit must be >= 0");
    JS_SetMemoryLimit(self->rt, (size_t)n);
    Py_RETURN_NONE;
}

static PyObject *iso_set_stack_limit(IsolateObject *self, PyObject *arg)
{
    Py_ssize_t n = PyNumber_AsSsize_t(arg, PyExc_OverflowError);
    if (n == -1 && PyErr_Occurred()) return NULL;
    if (check_open(self) < 0) return NULL;
    if (n <= 0) return PyErr_Format(PyExc_ValueError, "stack limit must be > 0");
    JS_SetMaxStackSize(self->rt, (size_t)n);
    Py_RETURN_NONE;
}

/* eval(source, name="<input>") / eval_module(source, name) */
static PyObject *do_eval(IsolateObject *self, PyObject *args, PyObject *kw, int module)
{
    static char *kwlist[] = {"source", "name", NULL};
    const char *src, *name = "<input>";
    Py_ssize_t n;
    if (!PyArg_ParseTupleAndKeywords(args, kw, module ? "s#s:eval_module" : "s#|s:eval", kwlist, &src, &n, &name))
        return NULL;
    if (iso_enter(self) < 0)
        return NULL;
    PyObject *out = NULL;
    if (refuse_if_stopped(self) < 0)
        goto done;
    JSValue r;
    RUN(self, r = JS_Eval(self->ctx, src, (size_t)n, name, module ? JS_EVAL_TYPE_MODULE : JS_EVAL_TYPE_GLOBAL));
    if (JS_IsException(r)) {
        raise_js(self);
        goto done;
    }
    if (module && JS_PromiseState(self->ctx, r) == JS_PROMISE_REJECTED) {
        /* the module's evaluation failed before it awaited anything: raise it here */
        JS_PromiseMarkAsHandled(self->ctx, r);
        JS_Throw(self->ctx, JS_PromiseResult(self->ctx, r));
        JS_FreeValue(self->ctx, r);
        raise_js(self);
        goto done;
    }
    out = js_to_py_free(self, r);
done:
    iso_leave(self);
    return out;
}

static PyObject *iso_eval(IsolateObject *self, PyObject *args, PyObject *kw) { return do_eval(self, args, kw, 0); }
static PyObject *iso_eval_module(IsolateObject *self, PyObject *args, PyObject *kw) { return do_eval(self, args, kw, 1); }

static PyObject *iso_compile(IsolateObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"source", "name", "module", "strip_source", "strip_debug", NULL};
    const char *src, *name;
    Py_ssize_t n;
    int module = 0, strip = 0, strip_debug = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "s#s|$ppp:compile", kwlist, &src, &n, &name, &module, &strip,
                                     &strip_debug))
        return NULL;
    if (iso_enter(self) < 0)
        return NULL;
    /* A context of its own, so the compiled module (and the modules its imports resolve to)
     * is not registered in the isolate's context: compiling is not loading. */
    PyObject *out = NULL;
    JSContext *cctx = JS_NewContext(self->rt);
    if (!cctx) {
        PyErr_NoMemory();
        goto done;
    }
    JS_SetContextOpaque(cctx, self);
    JSValue fn;
    RUN(self, fn = JS_Eval(cctx, src, (size_t)n, name,
                           (module ? JS_EVAL_TYPE_MODULE : JS_EVAL_TYPE_GLOBAL) | JS_EVAL_FLAG_COMPILE_ONLY));
    if (JS_IsException(fn)) {
        raise_js(self);
        goto done;
    }
    size_t size = 0;
    uint8_t *buf = JS_WriteObject(cctx, &size, fn, JS_WRITE_OBJ_BYTECODE | (strip ? JS_WRITE_OBJ_STRIP_SOURCE : 0) |
                                                  (strip_debug ? JS_WRITE_OBJ_STRIP_DEBUG : 0));
    JS_FreeValue(cctx, fn);
    if (!buf) {
        raise_js(self);
        goto done;
    }
    /* The engine's own checksum (bytes 1-4 after its version byte) is set to the value
     * that tells its reader to skip it: our header's sha256 covers the payload. */
    if (size > 5)
        memset(buf + 1, 0xff, 4);
    out = wrap_bytecode(buf, size, module ? 'M' : 'S');
    js_free(cctx, buf);
done:
    if (cctx)
        JS_FreeContext(cctx);
    iso_leave(self);
    return out;
}

static PyObject *iso_load(IsolateObject *self, PyObject *arg)
{
    if (!PyBytes_Check(arg))
        return PyErr_Format(PyExc_TypeError, "load() takes bytes from compile(), not %.80s", Py_TYPE(arg)->tp_name);
    if (check_open(self) < 0)
        return NULL;
    const uint8_t *p;
    size_t n;
    char kind;
    if (verify_bytecode(arg, &p, &n, &kind) < 0)
        return NULL;
    if (iso_enter(self) < 0)
        return NULL;
    PyObject *out = NULL;
    if (refuse_if_stopped(self) < 0)
        goto done;
    JSValue obj, r = JS_UNDEFINED;
    int tag_ok = 1;
    RUN(self, {
        obj = JS_ReadObject(self->ctx, p, n, JS_READ_OBJ_BYTECODE);
        if (JS_IsException(obj)) {
            r = JS_EXCEPTION;
        } else if (JS_VALUE_GET_TAG(obj) != (kind == 'M' ? JS_TAG_MODULE : JS_TAG_FUNCTION_BYTECODE)) {
            JS_FreeValue(self->ctx, obj);
            tag_ok = 0;
        } else if (kind == 'M' && JS_ResolveModule(self->ctx, obj) < 0) {
            JS_FreeValue(self->ctx, obj);
            r = JS_EXCEPTION;
        } else {
            r = JS_EvalFunction(self->ctx, obj);
        }
    });
    if (!tag_ok) {
        PyErr_SetString(BytecodeError, "corrupt bytecode: its payload is not the kind its header names");
        goto done;
    }
    if (JS_IsException(r)) {
        raise_js(self);
        goto done;
    }
    if (kind == 'M' && JS_PromiseState(self->ctx, r) == JS_PROMISE_REJECTED) {
        JS_PromiseMarkAsHandled(self->ctx, r);
        JS_Throw(self->ctx, JS_PromiseResult(self->ctx, r));
        JS_FreeValue(self->ctx, r);
        raise_js(self);
        goto done;
    }
    out = js_to_py_free(self, r);
done:
    iso_leave(self);
    return out;
}

static PyObject *iso_set_module_loader(IsolateObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"loader", "bare", "allow_cycles", NULL};
    PyObject *loader, *bare = NULL;
    int allow_cycles = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$Op:set_module_loader", kwlist, &loader, &bare, &allow_cycles))
        return NULL;
    if (check_open(self) < 0)
        return NULL;
    if (loader != Py_None && !PyCallable_Check(loader))
        return PyErr_Format(PyExc_TypeError, "the module loader must be callable or None");
    PyObject *seq = bare ? PySequence_Fast(bare, "bare must be a sequence of str") : PyTuple_New(0);
    if (!seq)
        return NULL;
    Py_ssize_t nb = PySequence_Fast_GET_SIZE(seq);
    char **names = calloc((size_t)nb + 1, sizeof(char *));
    if (!names) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < nb; i++) {
        PyObject *it = PySequence_Fast_GET_ITEM(seq, i);
        Py_ssize_t k;
        const char *s = PyUnicode_Check(it) ? PyUnicode_AsUTF8AndSize(it, &k) : NULL;
        if (!s || !(names[i] = xstrdup(s, (size_t)k))) {
            for (Py_ssize_t j = 0; j < i; j++) free(names[j]);
            free(names);
            Py_DECREF(seq);
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "bare must be a sequence of str");
            return NULL;
        }
    }
    Py_DECREF(seq);
    for (Py_ssize_t i = 0; i < self->n_bare; i++) free(self->bare[i]);
    free(self->bare);
    self->bare = names;
    self->n_bare = nb;
    self->allow_cycles = allow_cycles;
    Py_XSETREF(self->loader, loader == Py_None ? NULL : Py_NewRef(loader));
    Py_RETURN_NONE;
}

static PyObject *iso_function(IsolateObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"name", "fn", "length", NULL};
    PyObject *name, *fn;
    int length = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "UO|i:function", kwlist, &name, &fn, &length))
        return NULL;
    if (!PyCallable_Check(fn))
        return PyErr_Format(PyExc_TypeError, "function() needs a callable");
    if (check_open(self) < 0)
        return NULL;
    const char *cname = PyUnicode_AsUTF8(name);
    if (!cname)
        return NULL;
    Py_ssize_t idx = PyList_GET_SIZE(self->funcs);
    if (idx > INT32_MAX)
        return PyErr_Format(PyExc_OverflowError, "too many host functions");
    PyObject *entry = PyTuple_Pack(2, name, fn);
    if (!entry || PyList_Append(self->funcs, entry) < 0) {
        Py_XDECREF(entry);
        return NULL;
    }
    Py_DECREF(entry);
    JSValue f = JS_NewCFunctionMagic(self->ctx, host_call, cname, length, JS_CFUNC_generic_magic, (int)idx);
    if (JS_IsException(f))
        return raise_js(self);
    return new_value(self, f);
}

/* The chunk loader: a JS function load(i) that runs the i-th script of the tuple given to
 * chunk_loader() and returns its completion value. All in C, without the GIL: the bytecode
 * was verified when the loader was made, and the tuple is immutable and held until the
 * isolate goes. */
static JSValue chunk_call(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    IsolateObject *self = JS_GetContextOpaque(ctx);
    int32_t i;
    if (argc < 1 || JS_ToInt32(ctx, &i, argv[0]) < 0)
        return JS_ThrowTypeError(ctx, "load(i) takes the index of a chunk");
    if (!self->chunks || i < 0 || i >= PyTuple_GET_SIZE(self->chunks))
        return JS_ThrowRangeError(ctx, "there is no chunk %d", (int)i);
    PyObject *code = PyTuple_GET_ITEM(self->chunks, i);
    const uint8_t *p = (const uint8_t *)PyBytes_AS_STRING(code) + BC_HEADER_LEN;
    size_t n = (size_t)PyBytes_GET_SIZE(code) - BC_HEADER_LEN;
    JSValue obj = JS_ReadObject(ctx, p, n, JS_READ_OBJ_BYTECODE);
    if (JS_IsException(obj))
        return obj;
    if (JS_VALUE_GET_TAG(obj) != JS_TAG_FUNCTION_BYTECODE) {
        JS_FreeValue(ctx, obj);
        return JS_ThrowInternalError(ctx, "chunk %d is not a script", (int)i);
    }
    return JS_EvalFunction(ctx, obj);
}

static PyObject *iso_chunk_loader(IsolateObject *self, PyObject *args)
{
    PyObject *name, *codes;
    if (!PyArg_ParseTuple(args, "UO!:chunk_loader", &name, &PyTuple_Type, &codes))
        return NULL;
    if (check_open(self) < 0)
        return NULL;
    if (self->chunks)
        return PyErr_Format(PyExc_RuntimeError, "this isolate has a chunk loader already");
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(codes); i++) {
        PyObject *code = PyTuple_GET_ITEM(codes, i);
        const uint8_t *p;
        size_t n;
        char kind;
        if (!PyBytes_Check(code))
            return PyErr_Format(PyExc_TypeError, "chunk_loader() takes bytes from compile(), not %.80s",
                                Py_TYPE(code)->tp_name);
        if (verify_bytecode(code, &p, &n, &kind) < 0)
            return NULL;
        if (kind != 'S')
            return PyErr_Format(BytecodeError, "chunk %zd is a module's bytecode; chunks are scripts", i);
    }
    const char *cname = PyUnicode_AsUTF8(name);
    if (!cname)
        return NULL;
    JSValue f = JS_NewCFunction(self->ctx, chunk_call, cname, 1);
    if (JS_IsException(f))
        return raise_js(self);
    self->chunks = Py_NewRef(codes);
    return new_value(self, f);
}

static PyObject *iso_set_gc_threshold(IsolateObject *self, PyObject *arg)
{
    Py_ssize_t n = PyNumber_AsSsize_t(arg, PyExc_OverflowError);
    if (n == -1 && PyErr_Occurred()) return NULL;
    if (check_open(self) < 0) return NULL;
    if (n <= 0) return PyErr_Format(PyExc_ValueError, "GC threshold must be > 0");
    JS_SetGCThreshold(self->rt, (size_t)n);
    Py_RETURN_NONE;
}

static PyObject *iso_set_global(IsolateObject *self, PyObject *args)
{
    const char *name;
    PyObject *value;
    if (!PyArg_ParseTuple(args, "sO:set_global", &name, &value))
        return NULL;
    if (iso_enter(self) < 0)
        return NULL;
    PyObject *out = NULL;
    JSValue v;
    if (py_to_js(self, value, &v, 0) == 0) {
        JSValue g = JS_GetGlobalObject(self->ctx);
        int r;
        RUN(self, r = JS_SetPropertyStr(self->ctx, g, name, v));
        JS_FreeValue(self->ctx, g);
        out = r < 0 ? raise_js(self) : Py_NewRef(Py_None);
    }
    iso_leave(self);
    return out;
}

static PyObject *iso_get_global(IsolateObject *self, PyObject *arg)
{
    const char *name = PyUnicode_Check(arg) ? PyUnicode_AsUTF8(arg) : NULL;
    if (!name)
        return PyErr_Occurred() ? NULL : PyErr_Format(PyExc_TypeError, "get_global() takes a str");
    if (iso_enter(self) < 0)
        return NULL;
    JSValue g = JS_GetGlobalObject(self->ctx), v;
    RUN(self, v = JS_GetPropertyStr(self->ctx, g, name));
    JS_FreeValue(self->ctx, g);
    PyObject *out = JS_IsException(v) ? raise_js(self) : js_to_py_free(self, v);
    iso_leave(self);
    return out;
}

static PyObject *iso_run_jobs(IsolateObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"max_jobs", NULL};
    Py_ssize_t max_jobs = -1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|n:run_jobs", kwlist, &max_jobs))
        return NULL;
    if (iso_enter(self) < 0)
        return NULL;
    Py_ssize_t n = 0;
    int rc = 0;
    RUN(self, {
        for (;;) {
            if (max_jobs >= 0 && n >= max_jobs)
                break;
            if (must_stop(self, 0)) {
                rc = -2;
                break;
            }
            JSContext *jctx;
            int r = JS_ExecutePendingJob(self->rt, &jctx);
            if (r == 0)
                break;
            if (r < 0) {
                rc = -1;
                break;
            }
            n++;
        }
    });
    PyObject *out;
    if (rc == -1)
        out = raise_js(self);
    else if (rc == -2)
        out = raise_kind(self->why == WHY_BUDGET ? K_BUDGET : K_INTERRUPT);
    else
        out = PyLong_FromSsize_t(n);
    iso_leave(self);
    return out;
}

static PyObject *iso_has_jobs(IsolateObject *self, PyObject *unused)
{
    if (check_open(self) < 0)
        return NULL;
    return PyBool_FromLong(JS_IsJobPending(self->rt));
}

static PyObject *iso_arm(IsolateObject *self, PyObject *arg)
{
    double sec = PyFloat_AsDouble(arg);
    if (sec == -1.0 && PyErr_Occurred())
        return NULL;
    if (!(sec >= 0) || sec > 1e6)
        return PyErr_Format(PyExc_ValueError, "arm() takes CPU seconds between 0 and 1e6");
    atomic_store(&self->interrupt_flag, 0);
    self->why = WHY_NONE;
    self->expired = 0;
    self->cpu_known = 0;
    self->budget_ns = (int64_t)(sec * 1e9);
    self->armed_mono_ns = clock_ns(CLOCK_MONOTONIC);
    self->armed = 1;
    Py_RETURN_NONE;
}

/* CPU seconds since arm(): the thread's CPU clock once the turn has read it, else the wall
 * time since arm() (an upper bound; such a turn never reached an interrupt poll). */
static double cpu_used(IsolateObject *self)
{
    if (!self->armed)
        return 0.0;
    if (self->cpu_known)
        return (double)(clock_ns(CLOCK_THREAD_CPUTIME_ID) - self->cpu_at_arm_ns) / 1e9;
    return (double)(clock_ns(CLOCK_MONOTONIC) - self->armed_mono_ns) / 1e9;
}

static PyObject *iso_disarm(IsolateObject *self, PyObject *unused)
{
    double used = cpu_used(self);
    self->armed = 0;
    self->expired = 0;
    return PyFloat_FromDouble(used);
}

static PyObject *iso_cpu_used(IsolateObject *self, PyObject *unused)
{
    return PyFloat_FromDouble(cpu_used(self));
}

static PyObject *iso_interrupt(IsolateObject *self, PyObject *unused)
{
    atomic_store(&self->interrupt_flag, 1);
    Py_RETURN_NONE;
}

static PyObject *iso_memory(IsolateObject *self, PyObject *unused)
{
    if (check_open(self) < 0)
        return NULL;
    JSMemoryUsage u;
    JS_ComputeMemoryUsage(self->rt, &u);
#define F(x) {#x, u.x}
    struct { const char *k; int64_t v; } f[] = {
        F(malloc_size), F(malloc_limit), F(memory_used_size), F(malloc_count), F(memory_used_count),
        F(atom_count), F(atom_size), F(str_count), F(str_size), F(obj_count), F(obj_size),
        F(prop_count), F(prop_size), F(shape_count), F(shape_size), F(js_func_count), F(js_func_size),
        F(js_func_code_size), F(js_func_pc2line_count), F(js_func_pc2line_size), F(c_func_count),
        F(array_count), F(fast_array_count), F(fast_array_elements), F(binary_object_count),
        F(binary_object_size),
    };
#undef F
    PyObject *d = PyDict_New();
    for (size_t i = 0; d && i < sizeof f / sizeof f[0]; i++) {
        PyObject *v = PyLong_FromLongLong(f[i].v);
        if (!v || PyDict_SetItemString(d, f[i].k, v) < 0)
            Py_CLEAR(d);
        Py_XDECREF(v);
    }
    return d;
}

static PyObject *iso_run_gc(IsolateObject *self, PyObject *unused)
{
    if (iso_enter(self) < 0)
        return NULL;
    JS_RunGC(self->rt);
    iso_leave(self);
    Py_RETURN_NONE;
}

static PyObject *text_or_empty(const char *s)
{
    return PyUnicode_DecodeUTF8(s ? s : "", s ? (Py_ssize_t)strlen(s) : 0, "replace");
}

static PyObject *iso_take_rejections(IsolateObject *self, PyObject *unused)
{
    if (check_open(self) < 0)
        return NULL;
    PyObject *out = PyList_New(0);
    if (!out)
        return NULL;
    for (size_t i = 0; i < self->n_rej; i++) {
        Rejection *r = &self->rej[i];
        if (r->taken)
            continue;
        PyObject *reason = text_or_empty(r->reason), *stack = text_or_empty(r->stack);
        PyObject *d = reason && stack
            ? Py_BuildValue("{sKsssOsO}", "id", (unsigned long long)r->id, "event", "unhandled", "reason", reason, "stack", stack)
            : NULL;
        Py_XDECREF(reason);
        Py_XDECREF(stack);
        if (!d || PyList_Append(out, d) < 0) {
            Py_XDECREF(d);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(d);
        r->taken = 1;
    }
    for (size_t i = 0; i < self->n_handled; i++) {
        PyObject *d = Py_BuildValue("{sKss}", "id", (unsigned long long)self->handled[i], "event", "handled");
        if (!d || PyList_Append(out, d) < 0) {
            Py_XDECREF(d);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(d);
    }
    self->n_handled = 0;
    /* remember only the newest taken records for a later "handled" */
    size_t taken = 0;
    for (size_t i = 0; i < self->n_rej; i++)
        taken += self->rej[i].taken;
    for (size_t i = 0; i < self->n_rej && taken > MAX_REPORTED;) {
        if (self->rej[i].taken) {
            rejection_remove(self, i);
            taken--;
        } else {
            i++;
        }
    }
    return out;
}

static PyObject *iso_close(IsolateObject *self, PyObject *unused)
{
    if (self->closed)
        Py_RETURN_NONE;
    if (self->depth > 0) {
        PyErr_SetString(IsolateBusy, self->owner == PyThread_get_thread_ident()
                        ? "cannot close an isolate from inside a call into it"
                        : "this isolate is in use by another thread");
        return NULL;
    }
    iso_free_engine(self);
    iso_free_c(self);
    iso_clear(self);
    Py_RETURN_NONE;
}

static PyObject *iso_get_closed(IsolateObject *self, void *c) { return PyBool_FromLong(self->closed); }
static PyObject *iso_get_busy(IsolateObject *self, void *c) { return PyBool_FromLong(self->depth > 0); }
static PyObject *iso_get_armed(IsolateObject *self, void *c) { return PyBool_FromLong(self->armed); }
static PyObject *iso_get_host_error(IsolateObject *self, void *c)
{
    return Py_NewRef(self->host_error ? self->host_error : Py_None);
}
static PyObject *iso_get_dropped(IsolateObject *self, void *c) { return PyLong_FromSsize_t(self->rejections_dropped); }

static PyMethodDef iso_methods[] = {
    {"set_memory_limit", (PyCFunction)iso_set_memory_limit, METH_O, "set_memory_limit(nbytes): cap the heap (0: none)."},
    {"set_stack_limit", (PyCFunction)iso_set_stack_limit, METH_O, "set_stack_limit(nbytes): cap the JS stack."},
    {"eval", (PyCFunction)(void (*)(void))iso_eval, METH_VARARGS | METH_KEYWORDS,
     "eval(source, name='<input>'): run a classic script; its completion value."},
    {"eval_module", (PyCFunction)(void (*)(void))iso_eval_module, METH_VARARGS | METH_KEYWORDS,
     "eval_module(source, name): run an ES module; its evaluation promise (a Value)."},
    {"compile", (PyCFunction)(void (*)(void))iso_compile, METH_VARARGS | METH_KEYWORDS,
     "compile(source, name, *, module=False, strip_source=False, strip_debug=False): bytecode for load()."},
    {"load", (PyCFunction)iso_load, METH_O, "load(bytecode): run what compile() made (verified first)."},
    {"set_module_loader", (PyCFunction)(void (*)(void))iso_set_module_loader, METH_VARARGS | METH_KEYWORDS,
     "set_module_loader(loader, *, bare=(), allow_cycles=False): loader(name, base) -> str | bytes | None."},
    {"function", (PyCFunction)(void (*)(void))iso_function, METH_VARARGS | METH_KEYWORDS,
     "function(name, fn, length=0): a JS function calling fn (a Value)."},
    {"chunk_loader", (PyCFunction)iso_chunk_loader, METH_VARARGS,
     "chunk_loader(name, codes): a JS function load(i) running script bytecode codes[i] (once per isolate)."},
    {"set_gc_threshold", (PyCFunction)iso_set_gc_threshold, METH_O,
     "set_gc_threshold(nbytes): heap size at which the next cycle collection runs."},
    {"set_global", (PyCFunction)iso_set_global, METH_VARARGS, "set_global(name, value)."},
    {"get_global", (PyCFunction)iso_get_global, METH_O, "get_global(name)."},
    {"run_jobs", (PyCFunction)(void (*)(void))iso_run_jobs, METH_VARARGS | METH_KEYWORDS,
     "run_jobs(max_jobs=-1): run pending jobs until none is left (or max_jobs); how many ran."},
    {"has_jobs", (PyCFunction)iso_has_jobs, METH_NOARGS, "has_jobs(): a job is pending."},
    {"arm", (PyCFunction)iso_arm, METH_O, "arm(seconds): CPU deadline on this thread's CPU clock, until disarm()."},
    {"disarm", (PyCFunction)iso_disarm, METH_NOARGS, "disarm(): drop the deadline; CPU seconds used since arm()."},
    {"cpu_used", (PyCFunction)iso_cpu_used, METH_NOARGS, "cpu_used(): CPU seconds since arm() (0.0 unarmed)."},
    {"interrupt", (PyCFunction)iso_interrupt, METH_NOARGS,
     "interrupt(): stop running JS from any thread; JS stays stopped until the next arm()."},
    {"memory", (PyCFunction)iso_memory, METH_NOARGS, "memory(): JS_ComputeMemoryUsage as a dict."},
    {"run_gc", (PyCFunction)iso_run_gc, METH_NOARGS, "run_gc(): run the cycle collector."},
    {"take_rejections", (PyCFunction)iso_take_rejections, METH_NOARGS,
     "take_rejections(): unhandled rejections and later handlings since the last call."},
    {"close", (PyCFunction)iso_close, METH_NOARGS, "close(): free the engine now; every Value of it goes dead."},
    {NULL}
};

static PyGetSetDef iso_getset[] = {
    {"closed", (getter)iso_get_closed, NULL, "close() was called", NULL},
    {"busy", (getter)iso_get_busy, NULL, "a thread is inside", NULL},
    {"armed", (getter)iso_get_armed, NULL, "a CPU deadline is armed", NULL},
    {"host_error", (getter)iso_get_host_error, NULL, "the last exception a host function or the loader raised", NULL},
    {"rejections_dropped", (getter)iso_get_dropped, NULL, "unhandled rejections not recorded (over the cap)", NULL},
    {NULL}
};

static PyTypeObject IsolateType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "shardrun.engine._quickjs.Isolate",
    .tp_basicsize = sizeof(IsolateObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Isolate(memory_limit=0, stack_limit=0): one QuickJS runtime with one context.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)iso_init,
    .tp_dealloc = (destructor)iso_dealloc,
    .tp_traverse = (traverseproc)iso_traverse,
    .tp_clear = (inquiry)iso_clear,
    .tp_methods = iso_methods,
    .tp_getset = iso_getset,
    .tp_weaklistoffset = offsetof(IsolateObject, weakreflist),
};

/* ------------------------------------------------------------------ Value */

static int value_traverse(ValueObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->iso);
    return 0;
}

static int value_clear(ValueObject *self)
{
    value_release(self);
    Py_CLEAR(self->iso);
    return 0;
}

static void value_dealloc(ValueObject *self)
{
    PyObject_GC_UnTrack(self);
    value_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int value_live(ValueObject *self)
{
    if (!self->iso || !self->linked || self->iso->closed) {
        PyErr_SetString(IsolateClosed, "this JS value's isolate was closed");
        return -1;
    }
    return 0;
}

static PyObject *value_call(ValueObject *self, PyObject *args, PyObject *kw)
{
    if (kw && PyDict_GET_SIZE(kw))
        return PyErr_Format(PyExc_TypeError, "JS functions take no keyword arguments");
    if (value_live(self) < 0)
        return NULL;
    IsolateObject *iso = self->iso;
    if (iso_enter(iso) < 0)
        return NULL;
    PyObject *out = NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(args), i = 0;
    JSValue small[8], *argv = n <= 8 ? small : PyMem_Malloc((size_t)n * sizeof(JSValue));
    if (!argv) {
        PyErr_NoMemory();
        goto done;
    }
    for (; i < n; i++)
        if (py_to_js(iso, PyTuple_GET_ITEM(args, i), &argv[i], 0) < 0)
            goto free_args;
    if (refuse_if_stopped(iso) < 0)
        goto free_args;
    JSValue r;
    RUN(iso, r = JS_Call(iso->ctx, self->v, JS_UNDEFINED, (int)n, argv));
    out = JS_IsException(r) ? raise_js(iso) : js_to_py_free(iso, r);
free_args:
    while (i > 0)
        JS_FreeValue(iso->ctx, argv[--i]);
    if (argv != small)
        PyMem_Free(argv);
done:
    iso_leave(iso);
    return out;
}

static PyObject *value_get(ValueObject *self, PyObject *key)
{
    if (value_live(self) < 0)
        return NULL;
    IsolateObject *iso = self->iso;
    if (iso_enter(iso) < 0)
        return NULL;
    PyObject *out = NULL;
    JSValue k;
    if (py_to_js(iso, key, &k, MAX_DEPTH) == 0) {
        JSAtom a = JS_ValueToAtom(iso->ctx, k);
        JS_FreeValue(iso->ctx, k);
        if (a == JS_ATOM_NULL) {
            raise_js(iso);
        } else {
            JSValue v;
            RUN(iso, v = JS_GetProperty(iso->ctx, self->v, a));
            JS_FreeAtom(iso->ctx, a);
            out = JS_IsException(v) ? raise_js(iso) : js_to_py_free(iso, v);
        }
    }
    iso_leave(iso);
    return out;
}

static PyObject *value_json(ValueObject *self, PyObject *unused)
{
    if (value_live(self) < 0)
        return NULL;
    IsolateObject *iso = self->iso;
    if (iso_enter(iso) < 0)
        return NULL;
    PyObject *out = NULL;
    JSValue s;
    RUN(iso, s = JS_JSONStringify(iso->ctx, self->v, JS_UNDEFINED, JS_UNDEFINED));
    if (JS_IsException(s))
        raise_js(iso);
    else
        out = js_to_py_free(iso, s);   /* a str, or None when JSON has no text for it */
    iso_leave(iso);
    return out;
}

static PyObject *value_promise_state(ValueObject *self, PyObject *unused)
{
    if (value_live(self) < 0)
        return NULL;
    switch (JS_PromiseState(self->iso->ctx, self->v)) {
    case JS_PROMISE_PENDING: return PyUnicode_FromString("pending");
    case JS_PROMISE_FULFILLED: return PyUnicode_FromString("fulfilled");
    case JS_PROMISE_REJECTED: return PyUnicode_FromString("rejected");
    default: Py_RETURN_NONE;
    }
}

static PyObject *value_promise_result(ValueObject *self, PyObject *unused)
{
    if (value_live(self) < 0)
        return NULL;
    IsolateObject *iso = self->iso;
    if (!JS_IsPromise(self->v))
        return PyErr_Format(PyExc_TypeError, "not a promise");
    if (iso_enter(iso) < 0)
        return NULL;
    PyObject *out = js_to_py_free(iso, JS_PromiseResult(iso->ctx, self->v));
    iso_leave(iso);
    return out;
}

static PyObject *value_get_type(ValueObject *self, void *c)
{
    if (value_live(self) < 0)
        return NULL;
    JSValueConst v = self->v;
    if (JS_IsFunction(self->iso->ctx, v)) return PyUnicode_FromString("function");
    if (JS_IsSymbol(v)) return PyUnicode_FromString("symbol");
    if (JS_IsArray(v)) return PyUnicode_FromString("array");
    if (JS_IsPromise(v)) return PyUnicode_FromString("promise");
    if (JS_IsError(v)) return PyUnicode_FromString("error");
    return PyUnicode_FromString("object");
}

static PyObject *value_get_isolate(ValueObject *self, void *c)
{
    return Py_NewRef(self->iso ? (PyObject *)self->iso : Py_None);
}

static PyObject *value_repr(ValueObject *self)
{
    if (!self->iso || !self->linked || self->iso->closed)
        return PyUnicode_FromString("<JS value of a closed isolate>");
    PyObject *t = value_get_type(self, NULL);
    if (!t)
        return NULL;
    PyObject *r = PyUnicode_FromFormat("<JS %U>", t);
    Py_DECREF(t);
    return r;
}

static PyMethodDef value_methods[] = {
    {"get", (PyCFunction)value_get, METH_O, "get(key): the property, converted like a call's result."},
    {"json", (PyCFunction)value_json, METH_NOARGS, "json(): JSON.stringify of the value (None if it has no JSON)."},
    {"promise_state", (PyCFunction)value_promise_state, METH_NOARGS,
     "promise_state(): 'pending' | 'fulfilled' | 'rejected', or None if not a promise."},
    {"promise_result", (PyCFunction)value_promise_result, METH_NOARGS, "promise_result(): a settled promise's value."},
    {NULL}
};

static PyGetSetDef value_getset[] = {
    {"type", (getter)value_get_type, NULL, "function | array | promise | error | symbol | object", NULL},
    {"isolate", (getter)value_get_isolate, NULL, "the Isolate it belongs to", NULL},
    {NULL}
};

static PyTypeObject ValueType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "shardrun.engine._quickjs.Value",
    .tp_basicsize = sizeof(ValueObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "A JS value held by Python (objects, arrays, functions, symbols); callable when a function.",
    .tp_dealloc = (destructor)value_dealloc,
    .tp_traverse = (traverseproc)value_traverse,
    .tp_clear = (inquiry)value_clear,
    .tp_call = (ternaryfunc)value_call,
    .tp_repr = (reprfunc)value_repr,
    .tp_methods = value_methods,
    .tp_getset = value_getset,
};

/* ------------------------------------------------------------------ module */

static PyObject *new_error(PyObject *m, const char *name, const char *doc, PyObject *base, const char *code)
{
    PyObject *dict = PyDict_New();
    if (!dict)
        return NULL;
    PyObject *c = code ? PyUnicode_FromString(code) : Py_NewRef(Py_None);
    PyObject *empty = PyUnicode_FromString("");
    if (!c || !empty || PyDict_SetItemString(dict, "code", c) < 0 ||
        PyDict_SetItemString(dict, "name", empty) < 0 || PyDict_SetItemString(dict, "message", empty) < 0 ||
        PyDict_SetItemString(dict, "stack", empty) < 0) {
        Py_XDECREF(c); Py_XDECREF(empty); Py_DECREF(dict);
        return NULL;
    }
    Py_DECREF(c);
    Py_DECREF(empty);
    char full[128];
    snprintf(full, sizeof full, "shardrun.engine._quickjs.%s", name);
    PyObject *cls = PyErr_NewExceptionWithDoc(full, doc, base, dict);
    Py_DECREF(dict);
    if (!cls || PyModule_AddObjectRef(m, name, cls) < 0) {
        Py_XDECREF(cls);
        return NULL;
    }
    return cls;
}

static int module_exec(PyObject *m)
{
    if (PyType_Ready(&IsolateType) < 0 || PyType_Ready(&ValueType) < 0)
        return -1;
    if (PyModule_AddObjectRef(m, "Isolate", (PyObject *)&IsolateType) < 0 ||
        PyModule_AddObjectRef(m, "Value", (PyObject *)&ValueType) < 0)
        return -1;
    if (!(EngineError = new_error(m, "EngineError", "An exception that left the engine (.name .message .stack .code).",
                                  PyExc_Exception, NULL)) ||
        !(JSError = new_error(m, "JSError", "JS threw a value nobody caught (.code: the thrown error's code, or None).",
                              EngineError, NULL)) ||
        !(BudgetExceeded = new_error(m, "BudgetExceeded", "The CPU deadline armed with arm() passed.", EngineError, "E_CPU_LIMIT")) ||
        !(Interrupted = new_error(m, "Interrupted", "interrupt() stopped the JS.", EngineError, "E_CPU_LIMIT")) ||
        !(OutOfMemory = new_error(m, "OutOfMemory", "The isolate's memory limit was hit.", EngineError, "E_OOM")) ||
        !(StackOverflow = new_error(m, "StackOverflow", "The isolate's stack limit was hit.", EngineError, "E_STACK")) ||
        !(IsolateBusy = new_error(m, "IsolateBusy", "Another thread is inside this isolate.", PyExc_RuntimeError, "E_ISOLATE_BUSY")) ||
        !(IsolateClosed = new_error(m, "IsolateClosed", "The isolate was closed.", PyExc_RuntimeError, "E_ISOLATE_DISCARDED")) ||
        !(BytecodeError = new_error(m, "BytecodeError", "Bytecode that this build did not make, or corrupt.", PyExc_ValueError, "E_INTERNAL")))
        return -1;
    PyObject *hashlib = PyImport_ImportModule("hashlib");
    if (!hashlib)
        return -1;
    sha256_func = PyObject_GetAttrString(hashlib, "sha256");
    Py_DECREF(hashlib);
    if (!sha256_func)
        return -1;
    if (!verified && !(verified = PySet_New(NULL)))
        return -1;
    if (PyModule_AddStringConstant(m, "ENGINE_VERSION", JS_GetVersion()) < 0 ||
        PyModule_AddStringConstant(m, "ENGINE_BUILD", SHARDRUN_ENGINE_BUILD) < 0 ||
        PyModule_AddIntConstant(m, "POLL_TICKS", JS_INTERRUPT_COUNTER_INIT) < 0 ||
        PyModule_AddIntConstant(m, "BYTECODE_HEADER_SIZE", BC_HEADER_LEN) < 0)
        return -1;
    return 0;
}

static PyObject *mod_check_bytecode(PyObject *m, PyObject *arg)
{
    if (!PyBytes_Check(arg))
        return PyErr_Format(PyExc_TypeError, "check_bytecode() takes bytes, not %.80s", Py_TYPE(arg)->tp_name);
    const uint8_t *p;
    size_t n;
    char kind;
    if (verify_bytecode(arg, &p, &n, &kind) < 0)
        return NULL;
    return PyUnicode_FromString(kind == 'M' ? "module" : "script");
}

static PyMethodDef module_methods[] = {
    {"check_bytecode", (PyCFunction)mod_check_bytecode, METH_O,
     "check_bytecode(data): 'script' or 'module' if load() would accept its header; else BytecodeError."},
    {NULL}
};

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL}
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "shardrun.engine._quickjs",
    .m_doc = "shardrun's engine extension over quickjs-ng (see native/README section in the top README).",
    .m_size = 0,
    .m_methods = module_methods,
    .m_slots = module_slots,
};

PyMODINIT_FUNC PyInit__quickjs(void)
{
    return PyModuleDef_Init(&module_def);
}
