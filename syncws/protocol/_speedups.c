/* Optional C masking for syncws; syncws/protocol/mask.py falls back to Python without it. */
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

static PyMethodDef methods[] = {
    {"apply_mask", apply_mask, METH_VARARGS, "XOR data with a repeating 4-byte mask."},
    {"mask_frame", mask_frame, METH_VARARGS, "prefix + data XOR a repeating 4-byte mask."},
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
