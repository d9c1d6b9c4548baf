"""The wheel carries the run templates and grids. They live at the top of the repository (notebooks/, grids/),
where the design card puts them, and are copied into aecrypt/resources/ when a wheel is built; an editable
install (make setup) reads them where they are. Everything else is in pyproject.toml."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

#: (top-level folder, the files of it the wheel carries)
RESOURCES = (("notebooks", "*.ipynb"), ("notebooks/assignments", "*.ipynb"), ("grids", "*.yaml"))


class BuildWithResources(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            return
        for folder, pattern in RESOURCES:
            for source in sorted(Path(folder).glob(pattern)):
                target = Path(self.build_lib, "aecrypt", "resources", source)
                self.mkpath(str(target.parent))
                self.copy_file(str(source), str(target))


setup(cmdclass={"build_py": BuildWithResources})
