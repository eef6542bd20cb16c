"""The offline field app in headless Chromium (Debian's chromium + chromedriver, driven by Selenium):
opened from file:// at phone and tablet sizes, visit logged, page reloaded, report exported and imported."""

from __future__ import annotations

import json
import shutil
import time
from datetime import date
from pathlib import Path

import pytest
from field_fixtures import HOSTILE, saved_project

from territory_desktop.models import InvalidInputError
from territory_desktop.services.field_reports import import_report
from territory_desktop.services.packages import PackageOptions, export_rep_package
from territory_desktop.services.project import open_project
from territory_desktop.storage.project_file import package_key

webdriver = pytest.importorskip("selenium.webdriver")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="chromium and chromedriver not installed")


def browser(download: Path):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.binary_location = CHROMIUM
    options.add_experimental_option("prefs", {"download.default_directory": str(download),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(download)})
    return driver


def size(driver, width: int, height: int) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 768})


def wait(driver, script: str, timeout: float = 10.0):
    end = time.time() + timeout
    while time.time() < end:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {script}")


def visible(driver, selector: str) -> bool:
    return driver.execute_script(
        "var e = document.querySelector(arguments[0]); if (!e) return false;"
        "var r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0", selector)


def blue_pixels(png: bytes) -> int:
    """Pixels of the territory outline colour (#2f6fb0, within 12 per channel) in a screenshot."""
    import io

    import numpy as np
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return int((np.abs(img - np.array([0x2F, 0x6F, 0xB0])).max(axis=2) <= 12).sum())


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    folder = tmp_path_factory.mktemp("app")
    path = saved_project(folder)
    opts = PackageOptions(key=package_key(path), start=date(2027, 3, 1), weeks=1, time_limit=0.2)
    return path, export_rep_package(open_project(path), "r1", folder / "r1", opts), folder


def test_phone_map_list_route_log_reload_export_import(package) -> None:
    path, pkg, folder = package
    download = folder / "downloads"
    download.mkdir(exist_ok=True)
    driver = browser(download)
    try:
        size(driver, 375, 812)
        driver.get((pkg / "index.html").as_uri())
        wait(driver, "return document.documentElement.dataset.mapReady")
        assert driver.execute_script("return [innerWidth, innerHeight]") == [375, 812]
        assert visible(driver, "#map") and not visible(driver, "#account-list")
        shot = driver.get_screenshot_as_png()
        assert blue_pixels(shot) > 200  # the territory outline is drawn
        driver.find_element("css selector", ".tabs button[data-tab=accounts]").click()
        names = driver.execute_script("return [...document.querySelectorAll('#account-list li .name')]"
                                      ".map(e => e.textContent)")
        assert len(names) == 6 and HOSTILE in names  # shown as text
        assert driver.execute_script("return document.querySelectorAll('img[src=x]').length") == 0
        driver.find_element("id", "search").send_keys("Quokka Supplies 3")
        assert driver.execute_script("return document.querySelectorAll('#account-list li').length") == 1
        driver.find_element("css selector", ".tabs button[data-tab=route]").click()
        stops = driver.execute_script("return document.querySelectorAll('#stops li .num').length")
        assert 1 <= stops <= 6
        assert driver.execute_script("return document.querySelectorAll('.leaflet-marker-icon .stop-icon').length") == stops
        driver.find_element("css selector", ".tabs button[data-tab=accounts]").click()
        driver.find_element("css selector", "#account-list li").click()
        driver.find_element("css selector", "#details .actions .primary").click()
        driver.find_element("id", "f-notes").send_keys("Met the buyer")
        driver.find_element("css selector", "#visit-form details summary").click()
        phone = driver.find_element("id", "f-contact-phone")
        phone.clear()
        phone.send_keys("555-0199")
        driver.find_element("css selector", "#visit-form button[type=submit]").click()
        assert driver.find_element("id", "log-count").text == "1"
        driver.refresh()
        wait(driver, "return document.documentElement.dataset.mapReady")
        assert driver.find_element("id", "log-count").text == "1"  # kept in localStorage
        driver.find_element("id", "export-report").click()
        files = wait(driver, "return true") and _wait_file(download)
    finally:
        driver.quit()
    result = import_report(path, files)
    assert result["visits_added"] == 1 and result["corrections_applied"] == 1
    project = open_project(path)
    added = project.visits[project.visits["note"].astype(str).str.startswith("Met the buyer")]
    assert list(added["account_id"]) == ["r1-a3"] and list(added["rep_id"]) == ["r1"]
    assert project.accounts.set_index("account_id").loc["r1-a3", "contact_phone"] == "555-0199"
    report = json.loads(files.read_text())
    report["body"] = report["body"].replace("Met the buyer", "Met the seller")
    files.write_text(json.dumps(report))
    with pytest.raises(InvalidInputError, match="checksum"):
        import_report(path, files)


def _wait_file(folder: Path, timeout: float = 10.0) -> Path:
    end = time.time() + timeout
    while time.time() < end:
        done = [p for p in folder.glob("report-*.json")]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError("no report downloaded")


def test_tablet_shows_map_and_list_side_by_side(package) -> None:
    _, pkg, folder = package
    driver = browser(folder)
    try:
        size(driver, 1024, 768)
        driver.get((pkg / "index.html").as_uri())
        wait(driver, "return document.documentElement.dataset.mapReady")
        assert visible(driver, "#map") and visible(driver, "#account-list")
        rects = driver.execute_script("return [document.getElementById('map').getBoundingClientRect().right,"
                                      "document.getElementById('account-list').getBoundingClientRect().left]")
        assert rects[0] <= rects[1] + 1
        assert blue_pixels(driver.get_screenshot_as_png()) > 200
    finally:
        driver.quit()
