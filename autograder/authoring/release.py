"""Student releases, made by nbgrader's own generate_assignment in a scratch course."""
from __future__ import annotations

import functools
import logging
import tempfile
from pathlib import Path

import nbformat


CODE_STUB = {
    "en": "# YOUR CODE HERE\nraise NotImplementedError()",
    "zh": "# 在这里写你的代码\nraise NotImplementedError()",
}


class ReleaseError(Exception):
    pass


def generate_releases(instructor_nbs: dict[str, nbformat.NotebookNode], lang: str) -> dict[str, nbformat.NotebookNode]:
    """Map assignment name -> instructor notebook to assignment name -> student notebook."""
    if not instructor_nbs:
        return {}
    import nbgrader.api
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    # Every gradebook opened asks a fresh `alembic` process for the schema head (~3 s); it never changes.
    if not hasattr(nbgrader.api.get_alembic_version, "cache_info"):
        nbgrader.api.get_alembic_version = functools.cache(nbgrader.api.get_alembic_version)

    with tempfile.TemporaryDirectory(prefix="release-") as tmp:
        root = Path(tmp)
        for name, nb in instructor_nbs.items():
            folder = root / "source" / name
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / f"{name}.ipynb")
        config = Config()
        config.CourseDirectory.root = str(root)
        config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
        config.ClearSolutions.code_stub = {"python": CODE_STUB[lang]}
        api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        api.log.setLevel(logging.ERROR)
        released = {}
        for name in instructor_nbs:
            result = api.generate_assignment(name, force=True, create=True)
            if not result["success"]:
                raise ReleaseError(f"nbgrader generate_assignment {name} failed:\n{result.get('error') or result.get('log')}")
            released[name] = nbformat.read(root / "release" / name / f"{name}.ipynb", as_version=4)
        return released
