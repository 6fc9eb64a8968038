"""Where the plugin finds `deno` and the sopseg folder.

Looked up in this order: the environment (`SOPSEG_DENO`, `SOPSEG_DIR`), the Processing settings
(Settings > Options > Processing > Providers > sopseg), the `config.json` that
`deno task qgis:install` writes beside the plugin, the `sopseg/` folder that
`deno task qgis:package` puts inside the plugin; for deno, then PATH and ~/.deno/bin.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

DENO_SETTING = "SOPSEG_DENO"
DIR_SETTING = "SOPSEG_DIR"
PLUGIN_DIR = Path(__file__).resolve().parent


def _setting(name: str) -> str:
    """A Processing setting's value (stored by QGIS under Processing/Configuration/NAME)."""
    try:
        from qgis.core import QgsSettings
    except ImportError:
        return ""
    value = QgsSettings().value(f"Processing/Configuration/{name}", "")
    return str(value or "").strip()


def _config() -> dict[str, str]:
    path = PLUGIN_DIR / "config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def deno_path() -> Optional[str]:
    """The configured deno executable, or None to search PATH (see sopseg_client.find_deno)."""
    return os.environ.get(DENO_SETTING) or _setting(DENO_SETTING) or _config().get("deno") or None


def sopseg_dir() -> Path:
    """The sopseg folder (the one holding its deno.json); raises FileNotFoundError if none."""
    candidates = [
        os.environ.get(DIR_SETTING, ""),
        _setting(DIR_SETTING),
        _config().get("sopseg_dir", ""),
        str(PLUGIN_DIR / "sopseg"),
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "deno.json").is_file():
            return Path(candidate)
    tried = ", ".join(repr(c) for c in candidates if c)
    raise FileNotFoundError(
        f"Cannot find the sopseg folder (tried {tried}): set it in Settings > Options > "
        "Processing > Providers > sopseg, or reinstall with `deno task qgis:install`"
    )
