"""Make `import model` mean the folder this file is in, whatever it is called there.

The scoring scripts are loaded by path (Azure's inference server and batch runner use
them as entry scripts), and Azure ML mounts the code folder (`model/`) under a name of
its own. Each script runs this file first (`runpy.run_path`) so that its
`from model.service import ...` finds its own folder, never another `model` package.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
loaded = sys.modules.get("model")
if loaded is None or Path(loaded.__file__ or "").resolve().parent != here:
    spec = importlib.util.spec_from_file_location("model", here / "__init__.py",
                                                  submodule_search_locations=[str(here)])
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules["model"] = package
    spec.loader.exec_module(package)
