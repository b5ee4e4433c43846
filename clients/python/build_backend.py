"""A PEP 517 build backend of a few lines, in the tree, so ``pip install ./clients/python`` needs no network.

pip builds in an isolated environment and would download setuptools for it; machines without PyPI (air-gapped
clusters, this project's CI) then cannot install the client at all. The package is pure Python, so a wheel is a zip
of ``src/convservice`` and its metadata, read from ``pyproject.toml``'s ``[project]`` table.
"""
import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))


def _project():
    with open(os.path.join(HERE, "pyproject.toml"), "rb") as f:
        raw = f.read()
    try:
        import tomllib  # Python 3.11+

        return tomllib.loads(raw.decode())["project"]
    except ImportError:  # older Pythons: the few keys used below, as this file writes them
        text = raw.decode()
        get = lambda key: re.search(rf'^{key}\s*=\s*"([^"]*)"', text, re.M).group(1)  # noqa: E731
        deps = re.search(r"^dependencies\s*=\s*\[(.*?)\]", text, re.M | re.S).group(1)
        return {"name": get("name"), "version": get("version"), "description": get("description"),
                "requires-python": get("requires-python"), "dependencies": re.findall(r'"([^"]+)"', deps)}


def _metadata(project):
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {project['version']}",
             f"Summary: {project.get('description', '')}", f"Requires-Python: {project.get('requires-python', '>=3')}"]
    lines += [f"Requires-Dist: {d}" for d in project.get("dependencies", [])]
    for extra, deps in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {d}; extra == "{extra}"' for d in deps]
    with open(os.path.join(HERE, "README.md"), encoding="utf-8") as f:
        lines += ["Description-Content-Type: text/markdown", "", f.read()]
    return "\n".join(lines) + "\n"


def _wheel(wheel_directory, files):
    """Writes a py3-none-any wheel of ``files`` (archive name → bytes) plus dist-info; returns its file name."""
    project = _project()
    name, version = project["name"], project["version"]
    info = f"{name}-{version}.dist-info"
    files = dict(files)
    files[f"{info}/METADATA"] = _metadata(project).encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: convservice build_backend\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    filename = f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as whl:
        for path, data in files.items():
            whl.writestr(path, data)
    return filename


def _sources():
    src = os.path.join(HERE, "src")
    for root, _, names in os.walk(os.path.join(src, "convservice")):
        for n in sorted(names):
            if n.endswith(".py"):
                path = os.path.join(root, n)
                with open(path, "rb") as f:
                    yield os.path.relpath(path, src).replace(os.sep, "/"), f.read()


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, _sources())


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    # PEP 660: a .pth file that puts this checkout's src/ on sys.path.
    return _wheel(wheel_directory, {"convservice.pth": (os.path.join(HERE, "src") + "\n").encode()})


def build_sdist(sdist_directory, config_settings=None):
    project = _project()
    base = f"{project['name']}-{project['version']}"
    filename = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as tar:
        for rel in ["pyproject.toml", "README.md", "build_backend.py"]:
            tar.add(os.path.join(HERE, rel), f"{base}/{rel}")
        for rel, data in _sources():
            member = tarfile.TarInfo(f"{base}/src/{rel}")
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
        pkg_info = tarfile.TarInfo(f"{base}/PKG-INFO")
        meta = _metadata(project).encode()
        pkg_info.size = len(meta)
        tar.addfile(pkg_info, io.BytesIO(meta))
    return filename
