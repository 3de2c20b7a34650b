"""The desktop entry, AppStream metainfo and icon are valid and agree with each other."""

import configparser
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DESKTOP = REPO / "packaging" / "imbalance-studio.desktop"
METAINFO = REPO / "packaging" / "io.github.imbalancestudio.ImbalanceStudio.metainfo.xml"
ICON = REPO / "resources" / "imbalance-studio.svg"


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive in desktop files
    parser.read_string(DESKTOP.read_text(encoding="utf-8"))
    return parser["Desktop Entry"]


def test_desktop_entry_has_the_required_keys():
    entry = desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Imbalance Studio"
    assert entry["Exec"].split()[0] == "imbalance-studio"  # the pyproject entry point
    assert entry["Icon"] == ICON.stem
    assert entry["Categories"].endswith(";")
    assert entry["Terminal"] == "false"


def test_metainfo_has_the_required_elements():
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    for tag in ("id", "metadata_license", "project_license", "name", "summary", "description"):
        assert (root.findtext(tag) or root.find(tag)) is not None, tag
    assert root.findtext("id") == METAINFO.name.removesuffix(".metainfo.xml")
    assert root.findtext("launchable") == DESKTOP.name
    assert root.findtext("provides/binary") == "imbalance-studio"


def test_icon_is_an_svg_qt_can_render(qtbot):
    from PySide6.QtGui import QIcon

    assert ET.parse(ICON).getroot().tag.endswith("svg")
    pixmap = QIcon(str(ICON)).pixmap(64, 64)
    assert not pixmap.isNull()
    image = pixmap.toImage()
    # Not blank: the bars give the icon at least three distinct colours.
    colours = {image.pixel(x, y) for x in range(0, 64, 4) for y in range(0, 64, 4)}
    assert len(colours) >= 3


def validator(name: str, package: str) -> str:
    """The validator's path. Missing, it skips the test on a workstation but fails it under
    CI (CI=true), where a silent skip would hide that the check never ran."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail(f"{name} is missing under CI: install {package} (CI must not skip it)")
        pytest.skip(f"{name} missing (package {package})")
    return path


def test_desktop_file_validate():
    tool = validator("desktop-file-validate", "desktop-file-utils")
    proc = subprocess.run([tool, str(DESKTOP)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_appstreamcli_validate():
    tool = validator("appstreamcli", "appstream")
    proc = subprocess.run(
        [tool, "validate", "--no-net", str(METAINFO)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception),
                                             ("", pytest.skip.Exception)])  # fmt: skip
def test_a_missing_validator_fails_under_ci_and_skips_elsewhere(monkeypatch, ci, outcome):
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(outcome, match="desktop-file-validate"):
        validator("desktop-file-validate", "desktop-file-utils")
