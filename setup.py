"""Builds the optional C extension (masking, frame scanning); without a compiler the pure-Python code is used."""

import os

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler: stay installable
            print(f"syncws: C speedups not built ({exc}); using pure Python")

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            print(f"syncws: C speedups not built ({exc}); using pure Python")


ext_modules = []
if os.environ.get("SYNCWS_NO_EXTENSIONS") != "1":
    ext_modules.append(
        Extension("syncws.protocol._speedups", ["syncws/protocol/_speedups.c"], optional=True)
    )

setup(ext_modules=ext_modules, cmdclass={"build_ext": OptionalBuildExt})
