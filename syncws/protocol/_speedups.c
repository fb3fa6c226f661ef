/* Optional C for syncws's per-byte jobs: masking, reading frames, and joining a big
 * message's pieces; without it syncws/protocol/mask.py and reader.py do the same in
 * Python. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static void
xor_into(uint8_t *dst, const uint8_t *src, Py_ssize_t n, const uint8_t m[4])
{
    uint64_t m64;
    Py_ssize_t i = 0;

    memcpy(&m64, m, 4);
    memcpy((uint8_t *)&m64 + 4, m, 4);
    /* Eight bytes at a time; the compiler vectorises this loop. */
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, src + i, 8);
        w ^= m64;
        memcpy(dst + i, &w, 8);
    }
    for (; i < n; i++)
        dst[i] = src[i] ^ m[i & 3];
}

/* prefix + (data XOR mask), in one allocation and one pass over data. */
static PyObject *
masked(Py_buffer *prefix, Py_buffer *data, Py_buffer *mask)
{
    PyObject *result;
    uint8_t *dst, m[4];

    if (mask->len != 4) {
        PyErr_SetString(PyExc_ValueError, "mask must be 4 bytes");
        return NULL;
    }
    result = PyBytes_FromStringAndSize(NULL, prefix->len + data->len);
    if (result == NULL)
        return NULL;
    dst = (uint8_t *)PyBytes_AS_STRING(result);
    memcpy(m, mask->buf, 4);
    if (prefix->len)
        memcpy(dst, prefix->buf, prefix->len);
    Py_BEGIN_ALLOW_THREADS
    xor_into(dst + prefix->len, (const uint8_t *)data->buf, data->len, m);
    Py_END_ALLOW_THREADS
    return result;
}

static PyObject *
apply_mask(PyObject *self, PyObject *args)
{
    Py_buffer data, mask;
    Py_buffer empty = {0};
    PyObject *result;

    if (!PyArg_ParseTuple(args, "y*y*:apply_mask", &data, &mask))
        return NULL;
    empty.buf = "";
    result = masked(&empty, &data, &mask);
    PyBuffer_Release(&data);
    PyBuffer_Release(&mask);
    return result;
}

static PyObject *
mask_frame(PyObject *self, PyObject *args)
{
    Py_buffer prefix, data, mask;
    PyObject *result;

    if (!PyArg_ParseTuple(args, "y*y*y*:mask_frame", &prefix, &data, &mask))
        return NULL;
    result = masked(&prefix, &data, &mask);
    PyBuffer_Release(&prefix);
    PyBuffer_Release(&data);
    PyBuffer_Release(&mask);
    return result;
}

/* Whole, unfragmented, uncompressed text and binary frames from data[pos:], each
 * appended to out as cls(type, payload, extra). It stops at the first frame it does
 * not take (a control frame, a fragment, RSV bits, a mask, a payload over max_size
 * or not all there yet, invalid UTF-8) and returns that frame's offset, so the
 * Python parser stays the one that judges, and fails, everything else. */
static PyObject *
scan_messages(PyObject *self, PyObject *args)
{
    PyObject *data, *out, *cls, *text, *binary, *extra;
    PyTypeObject *type;
    Py_ssize_t pos, max_size, end;
    const uint8_t *buf;

    if (!PyArg_ParseTuple(args, "SnnO!O!OOO:scan_messages", &data, &pos, &max_size, &PyList_Type, &out,
                          &PyType_Type, &cls, &text, &binary, &extra))
        return NULL;
    type = (PyTypeObject *)cls;
    if (!PyType_IsSubtype(type, &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "cls must be a tuple subclass (a NamedTuple)");
        return NULL;
    }
    buf = (const uint8_t *)PyBytes_AS_STRING(data);
    end = PyBytes_GET_SIZE(data);
    if (pos < 0 || pos > end) {
        PyErr_SetString(PyExc_ValueError, "pos out of range");
        return NULL;
    }
    while (end - pos >= 2) {
        uint8_t b0 = buf[pos], b1 = buf[pos + 1];
        Py_ssize_t head = 2;
        uint64_t n = b1;
        const char *start;
        PyObject *payload, *kind, *fields, *new_args, *msg;
        int failed;

        if ((b0 != 0x81 && b0 != 0x82) || (b1 & 0x80))  /* FIN + text/binary, unmasked */
            break;
        if (n == 126) {
            if (end - pos < 4)
                break;
            n = ((uint64_t)buf[pos + 2] << 8) | buf[pos + 3];
            head = 4;
        }
        else if (n == 127) {
            int i;
            if (end - pos < 10)
                break;
            n = 0;
            for (i = 2; i < 10; i++)
                n = (n << 8) | buf[pos + i];
            head = 10;
        }
        if ((max_size > 0 && n > (uint64_t)max_size) || n > (uint64_t)(end - pos - head))
            break;
        start = (const char *)buf + pos + head;
        if (b0 == 0x81) {
            payload = PyUnicode_DecodeUTF8(start, (Py_ssize_t)n, "strict");
            if (payload == NULL) {
                if (!PyErr_ExceptionMatches(PyExc_UnicodeDecodeError))
                    return NULL;
                PyErr_Clear();
                break;
            }
            kind = text;
        }
        else {
            payload = PyBytes_FromStringAndSize(start, (Py_ssize_t)n);
            if (payload == NULL)
                return NULL;
            kind = binary;
        }
        /* tuple.__new__(cls, (kind, payload, extra)): what the NamedTuple's own
         * __new__ ends in, and it sets up every field a tuple has in any version. */
        fields = PyTuple_Pack(3, kind, payload, extra);
        Py_DECREF(payload);
        if (fields == NULL)
            return NULL;
        new_args = PyTuple_Pack(1, fields);
        Py_DECREF(fields);
        if (new_args == NULL)
            return NULL;
        msg = PyTuple_Type.tp_new(type, new_args, NULL);
        Py_DECREF(new_args);
        if (msg == NULL)
            return NULL;
        failed = PyList_Append(out, msg);
        Py_DECREF(msg);
        if (failed)
            return NULL;
        pos += head + (Py_ssize_t)n;
    }
    return PyLong_FromSsize_t(pos);
}

/* Copies of at least this many bytes run with the GIL released. */
#define JOIN_RELEASE_AT (256 * 1024)

typedef struct {
    const void *data;
    Py_ssize_t len; /* in characters (str) or bytes */
    int kind;       /* bytes per character; 1 for bytes */
} join_part;

static void
copy_parts(char *dst, int kind, const join_part *parts, Py_ssize_t n)
{
    Py_ssize_t i, j;

    for (i = 0; i < n; i++) {
        const join_part *p = &parts[i];
        if (p->kind == kind)
            memcpy(dst, p->data, (size_t)p->len * (size_t)kind);
        else if (kind == 2) { /* a Latin-1 piece in a UCS-2 text */
            const Py_UCS1 *s = (const Py_UCS1 *)p->data;
            Py_UCS2 *d = (Py_UCS2 *)dst;
            for (j = 0; j < p->len; j++)
                d[j] = s[j];
        }
        else if (p->kind == 1) {
            const Py_UCS1 *s = (const Py_UCS1 *)p->data;
            Py_UCS4 *d = (Py_UCS4 *)dst;
            for (j = 0; j < p->len; j++)
                d[j] = s[j];
        }
        else {
            const Py_UCS2 *s = (const Py_UCS2 *)p->data;
            Py_UCS4 *d = (Py_UCS4 *)dst;
            for (j = 0; j < p->len; j++)
                d[j] = s[j];
        }
        dst += (size_t)p->len * (size_t)kind;
    }
}

/* join_parts(parts, text): "".join(parts) or b"".join(parts), for a message's pieces.
 * The result is allocated with the GIL held, then filled without it when big: most of
 * copying 16 MiB is first-touch page faults on the new object, and with the GIL held
 * that would stall every other thread of the process (the loop thread among them) for
 * about 10 ms. Nothing else can see the new object until it is returned, and the
 * pieces are kept alive and unchanged by the tuple made of them first. */
static PyObject *
join_parts(PyObject *self, PyObject *args)
{
    PyObject *seq, *parts, *result = NULL;
    join_part *info = NULL;
    Py_ssize_t n, i, total = 0;
    Py_UCS4 maxchar = 0;
    int text, kind = 1;
    char *dst;

    if (!PyArg_ParseTuple(args, "Op:join_parts", &seq, &text))
        return NULL;
    parts = PySequence_Tuple(seq);
    if (parts == NULL)
        return NULL;
    n = PyTuple_GET_SIZE(parts);
    info = PyMem_New(join_part, n ? n : 1);
    if (info == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (i = 0; i < n; i++) {
        PyObject *item = PyTuple_GET_ITEM(parts, i);
        if (text) {
            if (!PyUnicode_Check(item)) {
                PyErr_Format(PyExc_TypeError, "expected str pieces, got %.80s", Py_TYPE(item)->tp_name);
                goto done;
            }
#if PY_VERSION_HEX < 0x030C0000
            if (PyUnicode_READY(item) < 0)
                goto done;
#endif
            info[i].data = PyUnicode_DATA(item);
            info[i].len = PyUnicode_GET_LENGTH(item);
            info[i].kind = (int)PyUnicode_KIND(item);
            if (PyUnicode_MAX_CHAR_VALUE(item) > maxchar)
                maxchar = PyUnicode_MAX_CHAR_VALUE(item);
        }
        else {
            if (!PyBytes_Check(item)) {
                PyErr_Format(PyExc_TypeError, "expected bytes pieces, got %.80s", Py_TYPE(item)->tp_name);
                goto done;
            }
            info[i].data = PyBytes_AS_STRING(item);
            info[i].len = PyBytes_GET_SIZE(item);
            info[i].kind = 1;
        }
        if (info[i].len > PY_SSIZE_T_MAX / 4 - total) {
            PyErr_SetString(PyExc_OverflowError, "joined message too long");
            goto done;
        }
        total += info[i].len;
    }
    if (text) {
        result = PyUnicode_New(total, maxchar);
        if (result == NULL)
            goto done;
        kind = (int)PyUnicode_KIND(result);
        dst = (char *)PyUnicode_DATA(result);
    }
    else {
        result = PyBytes_FromStringAndSize(NULL, total);
        if (result == NULL)
            goto done;
        dst = PyBytes_AS_STRING(result);
    }
    if (total * kind >= JOIN_RELEASE_AT) {
        Py_BEGIN_ALLOW_THREADS
        copy_parts(dst, kind, info, n);
        Py_END_ALLOW_THREADS
    }
    else
        copy_parts(dst, kind, info, n);
done:
    PyMem_Free(info);
    Py_DECREF(parts);
    return result;
}

static PyMethodDef methods[] = {
    {"apply_mask", apply_mask, METH_VARARGS, "XOR data with a repeating 4-byte mask."},
    {"mask_frame", mask_frame, METH_VARARGS, "prefix + data XOR a repeating 4-byte mask."},
    {"scan_messages", scan_messages, METH_VARARGS, "Whole plain data frames as messages; returns where it stopped."},
    {"join_parts", join_parts, METH_VARARGS, "\"\".join(parts) or b\"\".join(parts); big copies without the GIL."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "syncws.protocol._speedups", NULL, -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModule_Create(&module);
}
