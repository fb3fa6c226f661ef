"""Builds the optional C extension (masking, frame scanning); without a compiler the pure-Python code is used."""

import os

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.egg_info import egg_info
from setuptools.command.sdist import sdist


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


class EggInfoUnderBuild(egg_info):
    """Writes syncws.egg-info under build/ instead of the project root.

    setuptools runs egg_info in the source tree for every build and every ``pip install -e``. At the
    root, syncws.egg-info is a second installed "syncws" to importlib.metadata whenever the root is on
    sys.path (pytest, ``python -c`` in a checkout), and Python 3.9, which does not drop duplicate
    distributions, then lists each entry point twice (``syncws = syncws.cli:run`` among them).
    """

    def finalize_options(self) -> None:
        if self.egg_base is None:  # dist_info and editable_wheel set their own temporary egg_base
            os.makedirs("build", exist_ok=True)
            self.egg_base = "build"
        super().finalize_options()


class SdistWithoutBuildDir(sdist):
    """sdist lists the egg-info's SOURCES.txt itself; from build/ it is not for the sdist (PKG-INFO is)."""

    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        super().make_release_tree(base_dir, [f for f in files if not f.startswith("build" + os.sep)])


ext_modules = []
if os.environ.get("SYNCWS_NO_EXTENSIONS") != "1":
    ext_modules.append(
        Extension("syncws.protocol._speedups", ["syncws/protocol/_speedups.c"], optional=True)
    )

cmdclass = {"build_ext": OptionalBuildExt, "egg_info": EggInfoUnderBuild, "sdist": SdistWithoutBuildDir}
setup(ext_modules=ext_modules, cmdclass=cmdclass)
