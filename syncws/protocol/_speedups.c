/* Optional C masking for syncws; syncws/protocol/mask.py falls back to Python without it. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static PyObject *
apply_mask(PyObject *self, PyObject *args)
{
    Py_buffer data, mask;
    PyObject *result;
    const uint8_t *src;
    uint8_t *dst, m[4];
    uint64_t m64;
    Py_ssize_t n, i = 0;

    if (!PyArg_ParseTuple(args, "y*y*:apply_mask", &data, &mask))
        return NULL;
    if (mask.len != 4) {
        PyErr_SetString(PyExc_ValueError, "mask must be 4 bytes");
        goto fail;
    }
    n = data.len;
    result = PyBytes_FromStringAndSize(NULL, n);
    if (result == NULL)
        goto fail;
    src = (const uint8_t *)data.buf;
    dst = (uint8_t *)PyBytes_AS_STRING(result);
    memcpy(m, mask.buf, 4);
    memcpy(&m64, m, 4);
    memcpy((uint8_t *)&m64 + 4, m, 4);

    Py_BEGIN_ALLOW_THREADS
    /* Eight bytes at a time; the compiler vectorises this loop. */
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, src + i, 8);
        w ^= m64;
        memcpy(dst + i, &w, 8);
    }
    for (; i < n; i++)
        dst[i] = src[i] ^ m[i & 3];
    Py_END_ALLOW_THREADS

    PyBuffer_Release(&data);
    PyBuffer_Release(&mask);
    return result;
fail:
    PyBuffer_Release(&data);
    PyBuffer_Release(&mask);
    return NULL;
}

static PyMethodDef methods[] = {
    {"apply_mask", apply_mask, METH_VARARGS, "XOR data with a repeating 4-byte mask."},
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
