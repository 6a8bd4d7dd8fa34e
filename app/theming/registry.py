"""The themes shipped in themes/<name>/: their manifests (theme.json) and assets.

A theme's theme.json names it and declares its settings and homepage
sections. `themes/base/` is not offered to merchants: it holds the settings,
sections and templates every theme starts from (a theme's own theme.json
entries replace base entries of the same id, and its templates shadow the
base templates of the same name).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from app.config import ROOT

THEMES_DIR = ROOT / "themes"
BASE = "base"
DEFAULT_THEME = "atelier"
SETTING_TYPES = ("color", "font", "select", "checkbox", "text", "textarea", "range", "image", "collection", "link")
# Font choices are stacks of fonts every device has: no font files to fetch, no third-party requests.
FONT_STACKS = {
    "system": ("System sans", 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'),
    "humanist": ("Humanist sans", 'Seravek, "Gill Sans Nova", Ubuntu, Calibri, "DejaVu Sans", source-sans-pro, sans-serif'),
    "geometric": ("Geometric sans", 'Avenir, Montserrat, Corbel, "URW Gothic", source-sans-pro, sans-serif'),
    "old_style": ("Old-style serif", '"Iowan Old Style", "Palatino Linotype", "URW Palladio L", P052, serif'),
    "transitional": ("Transitional serif", 'Charter, "Bitstream Charter", "Sitka Text", Cambria, serif'),
    "didone": ("Didone serif", 'Didot, "Bodoni MT", "Noto Serif Display", "URW Palladio L", P052, Sylfaen, serif'),
    "mono": ("Monospace", 'ui-monospace, "Cascadia Code", "Source Code Pro", Menlo, Consolas, "DejaVu Sans Mono", monospace'),
}


class ThemeError(ValueError):
    """A theme's manifest is broken: a bug in a shipped theme, caught by the tests."""


@dataclass(frozen=True, eq=False)  # one object per theme (get_theme caches): hashed by identity
class Theme:
    name: str  # the folder: stable, stored in store_themes.theme
    title: str
    version: str
    description: str
    settings: tuple[dict, ...]
    sections: dict[str, dict]  # section type -> {"label", "settings": [...], "blocks": {type: {...}}, "max_blocks"}
    homepage: tuple[dict, ...]
    preview: str | None  # an asset path
    template_dirs: tuple[Path, ...] = field(repr=False)
    asset_dirs: tuple[Path, ...] = field(repr=False)

    def setting(self, setting_id: str) -> dict | None:
        return next((s for s in self.settings if s["id"] == setting_id), None)

    def default_settings(self) -> dict:
        return {s["id"]: s.get("default") for s in self.settings}

    def template_names(self) -> list[str]:
        """Every template a merchant may override: the theme's and the base's."""
        names = {path.relative_to(folder).as_posix() for folder in self.template_dirs
                 for path in folder.rglob("*.html")}
        return sorted(names)

    def template_source(self, name: str) -> str | None:
        for folder in self.template_dirs:
            path = folder / name
            if path.is_file() and folder in path.resolve().parents:
                return path.read_text()
        return None

    def asset_path(self, name: str) -> Path | None:
        for folder in self.asset_dirs:
            path = (folder / name).resolve()
            if path.is_file() and folder.resolve() in path.parents:
                return path
        return None


def _manifest(name: str) -> dict:
    path = THEMES_DIR / name / "theme.json"
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ThemeError(f"{path}: {exc}") from exc


def _merge_settings(base: list[dict], own: list[dict]) -> tuple[dict, ...]:
    merged = {s["id"]: s for s in base}
    for setting in own:
        merged[setting["id"]] = {**merged.get(setting["id"], {}), **setting}
    return tuple(merged.values())


def _check(theme: Theme) -> Theme:
    for setting in theme.settings + tuple(s for sec in theme.sections.values() for s in sec.get("settings", ())):
        if setting.get("type") not in SETTING_TYPES:
            raise ThemeError(f"{theme.name}: setting {setting.get('id')!r} has an unknown type")
    for section in theme.homepage:
        if section.get("type") not in theme.sections:
            raise ThemeError(f"{theme.name}: the homepage has an unknown section {section.get('type')!r}")
    return theme


@cache
def get_theme(name: str) -> Theme | None:
    """The theme of that folder, or None (not a theme, or the hidden base)."""
    if name == BASE or not name.isidentifier() or not (THEMES_DIR / name / "theme.json").is_file():
        return None
    base, own = _manifest(BASE), _manifest(name)
    folder, base_folder = THEMES_DIR / name, THEMES_DIR / BASE
    sections = {**base.get("sections", {}), **own.get("sections", {})}
    return _check(Theme(
        name=name, title=own["name"], version=own.get("version", "1.0.0"), description=own.get("description", ""),
        settings=_merge_settings(base.get("settings", []), own.get("settings", [])),
        sections=sections, homepage=tuple(own.get("homepage", base.get("homepage", []))),
        preview=own.get("preview"),
        template_dirs=(folder / "templates", base_folder / "templates"),
        asset_dirs=(folder / "assets", base_folder / "assets"),
    ))


@cache
def themes() -> tuple[Theme, ...]:
    """Every theme a merchant can choose, the default first."""
    names = sorted(p.name for p in THEMES_DIR.iterdir() if p.is_dir() and p.name != BASE)
    found = [theme for theme in map(get_theme, names) if theme is not None]
    return tuple(sorted(found, key=lambda theme: (theme.name != DEFAULT_THEME, theme.title)))


@cache
def fingerprint(path: Path) -> str:
    """A digest of an asset's bytes: its URL changes whenever its content does,
    so it can be cached for a year. (Shipped files change only with a release.)"""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
