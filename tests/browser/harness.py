"""Drive the workbook the way its users see it: JupyterLab in Chromium, through Playwright.

    with Lab(root) as lab, browser() as chromium:
        page = chromium.new_page()
        run = lab.run_all(page, "01_tokenization_xlmr_vs_xlmv.ipynb")   # restart and run all, from the menus
        run.problems(stored)   # error outputs, cells left unexecuted, figures that went missing

`Lab` starts `jupyter lab` as `make lab` does (this environment's `jupyter`, its bin first on PATH,
the notebooks folder as root), on a free loopback port with a random token, and stops it, and
every kernel it started, on leaving, failures included. For the tests it also exposes the
application object to the page (`window.jupyterapp`, read-only use: the notebook's model, the
kernel's status) and keeps its own settings: no autosave, so a run never writes into the stored
notebooks, and no windowing, so every cell's output is in the page.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

INSTALL_HINT = ("no Chromium: install it (Debian: apt-get install chromium) or point XLMLAB_CHROMIUM at one; "
                "Playwright's own browser download is not used")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
# JupyterLab settings for the tests: never save on its own, keep every cell in the page, no news pop-up
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}
CURRENT = ".jp-NotebookPanel:visible .jp-Notebook"  # the notebook shown in the page
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
# what an IPython traceback looks like once rendered as text (HTML export: errors and stderr share a style)
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s*Cell In\[\d+\], line \d+|^\w*(Error|Exception)\b.*:",
                       re.M)


def chromium_path() -> str | None:
    """Debian's chromium (or what XLMLAB_CHROMIUM names), if this machine has one."""
    named = os.environ.get("XLMLAB_CHROMIUM")
    if named:
        return named if Path(named).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "no Playwright for Python: pip install -e '.[test]'"
    return None if chromium_path() else INSTALL_HINT


@contextlib.contextmanager
def browser():
    """Headless Chromium under Playwright; closed on leaving."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cell_images(cell: dict) -> int:
    return sum(any(t in out.get("data", {}) for t in IMAGE_TYPES) for out in cell.get("outputs", []))


@dataclass
class Run:
    """What a notebook holds after Restart Kernel and Run All Cells, read from JupyterLab's model."""

    name: str
    notebook: dict  # nbformat JSON
    seconds: float
    rendered_images: int  # <img> and <svg> outputs in the page, loaded
    page: object = field(repr=False, default=None)

    def saved(self) -> dict:
        """The notebook as JupyterLab writes it to a file (no keys without a value)."""
        cells = [{k: v for k, v in c.items() if v is not None or k == "execution_count"} for c in self.notebook["cells"]]
        return self.notebook | {"cells": cells}

    @property
    def code_cells(self) -> list[dict]:
        return [c for c in self.notebook["cells"] if c["cell_type"] == "code"]

    def problems(self, stored: dict | None = None) -> list[str]:
        """Error outputs, cells left unexecuted, and figures the stored notebook has that this run lacks."""
        found = []
        for n, cell in enumerate(self.notebook["cells"]):
            if cell["cell_type"] != "code":
                continue
            head = "".join(cell["source"]).strip().splitlines()[:1]
            where = f"{self.name}, cell {n} ({head[0][:60] if head else 'empty'!r})"
            if cell.get("execution_count") is None and "".join(cell["source"]).strip():
                found.append(f"{where}: not executed")
            for out in cell.get("outputs", []):
                if out["output_type"] == "error":
                    found.append(f"{where}: {out['ename']}: {out['evalue']}")
        if stored is not None:
            stored_cells = [c for c in stored["cells"] if c["cell_type"] == "code"]
            if len(stored_cells) != len(self.code_cells):
                found.append(f"{self.name}: {len(self.code_cells)} code cells in the page, {len(stored_cells)} stored")
            for n, (then, now) in enumerate(zip(stored_cells, self.code_cells)):
                if cell_images(then) > cell_images(now):
                    found.append(f"{self.name}, code cell {n}: {cell_images(now)} figures, the stored notebook has "
                                 f"{cell_images(then)}")
        images = sum(cell_images(c) for c in self.code_cells)
        if self.rendered_images < images:
            found.append(f"{self.name}: {images} figures in the outputs, {self.rendered_images} drawn in the page")
        return found


class Lab:
    """`jupyter lab ROOT` on a free loopback port with a random token, as `make lab` starts it."""

    def __init__(self, root: str | os.PathLike, *, env: dict | None = None, startup_s: float = 60):
        self.root = Path(root).resolve()
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.state = Path(tempfile.mkdtemp(prefix="xlmlab-lab-"))
        self.env = dict(os.environ if env is None else env)
        bin_dir = str(Path(sys.executable).parent)
        self.env["PATH"] = os.pathsep.join([bin_dir, self.env.get("PATH", "")])  # as the Makefile exports it
        self.env["JUPYTER_RUNTIME_DIR"] = str(self.state / "runtime")  # kernels' connection files: ours alone
        self.startup_s = startup_s
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Lab:
        for relative, values in LAB_SETTINGS.items():
            path = self.state / "settings" / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        command = [str(Path(sys.executable).parent / "jupyter"), "lab", str(self.root), "--no-browser",
                   "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
                   f"--IdentityProvider.token={self.token}", "--expose-app-in-browser",
                   f"--LabApp.user_settings_dir={self.state / 'settings'}",
                   f"--LabApp.workspaces_dir={self.state / 'workspaces'}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")  # containers and CI run as root
        self.log = open(self.state / "server.log", "w")
        self.process = subprocess.Popen(command, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        try:
            self._wait_until_up()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + self.startup_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.process.returncode}:\n{self.server_log()}")
            try:
                self.api("status")
                return
            except OSError:
                time.sleep(0.25)
        raise TimeoutError(f"jupyter lab did not answer within {self.startup_s:.0f} s:\n{self.server_log()}")

    def server_log(self, tail: int = 4000) -> str:
        return (self.state / "server.log").read_text(errors="replace")[-tail:]

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(f"{self.url}/api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def kernel_processes(self) -> list[int]:
        """Processes started with a connection file of this server's (its kernels)."""
        marker = str(self.state / "runtime").encode()
        found = []
        for proc in Path("/proc").glob("[0-9]*"):
            with contextlib.suppress(OSError):
                if marker in (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
        return found

    def shutdown_kernels(self) -> None:
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(OSError):
                self.shutdown_kernels()
            os.killpg(self.process.pid, signal.SIGTERM)  # the server stops its kernels on SIGTERM
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        for pid in self.kernel_processes():  # a kernel the server could not stop
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        self.log.close()
        shutil.rmtree(self.state, ignore_errors=True)

    # the page ---------------------------------------------------------------------------------------
    def open(self, page, name: str, *, timeout_s: float = 120) -> None:
        """Open a notebook in JupyterLab and wait until its kernel is ready."""
        page.goto(f"{self.url}/lab/tree/{name}?reset&token={self.token}")  # reset: no tabs of an earlier page
        page.wait_for_function("""name => {
            const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
            const kernel = panel && panel.context && panel.context.path.endsWith(name) &&
                           panel.sessionContext.session && panel.sessionContext.session.kernel;
            return kernel && kernel.status === 'idle';
        }""", arg=name, timeout=timeout_s * 1000)

    def run_all(self, page, name: str, *, timeout_s: float = 1200) -> Run:
        """Open `name`, clear its outputs, restart the kernel and run every cell, all from the menus;
        returns the notebook as JupyterLab then holds it.

        The limit is generous on purpose: after a change to xlmlab's code the kept runs are stale,
        and the first run of notebook 04 trains its five fine-tunings again (9-10 min on 2 cores).
        """
        started = time.monotonic()
        self.open(page, name)
        menu(page, "Edit", "Clear Outputs of All Cells")
        menu(page, "Kernel", "Restart Kernel and Run All Cells…")
        page.locator(".jp-Dialog .jp-mod-accept").click()
        wait_until_done(page, timeout_s)
        notebook = page.evaluate("window.jupyterapp.shell.currentWidget.content.model.toJSON()")
        rendered = page.evaluate("""() => {
            const area = window.jupyterapp.shell.currentWidget.node;
            const images = [...area.querySelectorAll('.jp-OutputArea-output img')].filter(i => i.naturalWidth > 0);
            const svgs = area.querySelectorAll('.jp-OutputArea-output[data-mime-type="image/svg+xml"] svg');
            return images.length + svgs.length;
        }""")
        return Run(name, notebook, time.monotonic() - started, rendered, page)


def menu(page, *path: str) -> None:
    """Click through the main menu: menu(page, "Kernel", "Restart Kernel and Run All Cells…")."""
    page.locator("#jp-MainMenu").get_by_role("menuitem", name=path[0], exact=True).click()
    for item in path[1:]:
        page.locator(".lm-Menu").get_by_role("menuitem", name=item, exact=True).click()


def wait_until_done(page, timeout_s: float) -> None:
    """Until every cell has run (or one failed), none is queued, and the kernel has been idle for a second."""
    page.wait_for_function("""() => {
        const panel = window.jupyterapp.shell.currentWidget;
        const busy = panel.sessionContext.session.kernel.status !== 'idle' ||
                     [...panel.content.model.cells].some(c => c.type === 'code' && c.executionState === 'running');
        const cells = [...panel.content.model.cells].filter(c => c.type === 'code' && c.sharedModel.getSource().trim());
        const finished = cells.every(c => c.executionCount !== null) ||
                         cells.some(c => [...Array(c.outputs.length).keys()].some(i => c.outputs.get(i).type === 'error'));
        const now = Date.now();
        if (busy || window.__xlmlabIdleSince === undefined) window.__xlmlabIdleSince = busy ? undefined : now;
        return !busy && finished && now - window.__xlmlabIdleSince > 1000;
    }""", timeout=timeout_s * 1000, polling=250)


def screenshot(page, path: Path, *, top: bool = False) -> Path:
    """The page as it is (`top`: the notebook scrolled back to its first cell)."""
    if top:
        page.evaluate("""() => {
            const notebook = window.jupyterapp.shell.currentWidget.content.node;
            (notebook.querySelector('.jp-WindowedPanel-outer') || notebook).scrollTop = 0;
        }""")
        page.wait_for_timeout(300)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    return path


def html_problems(page, html: Path) -> tuple[list[str], int]:
    """Open an exported notebook (`jupyter nbconvert --to html`): what is wrong in it (error outputs
    saved in it, figures that are not drawn), and how many figures it shows."""
    page.goto(html.resolve().as_uri())
    page.wait_for_load_state("load")
    found = []
    for text in page.locator('[data-mime-type="application/vnd.jupyter.stderr"]').all_inner_texts():
        if TRACEBACK.search(text):
            found.append(f"{html.name}: an error output: {text.strip().splitlines()[-1][:200]}")
    images = page.evaluate("""() => {
        const all = [...document.querySelectorAll('.jp-OutputArea-output img')];
        return [all.length, all.filter(i => !(i.complete && i.naturalWidth > 0)).length];
    }""")
    if images[1]:
        found.append(f"{html.name}: {images[1]} of {images[0]} figures not drawn")
    return found, images[0]


# widgets, as a person uses them -----------------------------------------------------------------------
def cell(page, notebook: dict, marker: str):
    """The cell (in the page) whose source holds `marker`."""
    found = [n for n, c in enumerate(notebook["cells"]) if marker in "".join(c["source"])]
    assert len(found) == 1, f"{len(found)} cells hold {marker!r}"
    return page.locator(f"{CURRENT} .jp-Cell").nth(found[0])


def control(scope, label: str):
    """The ipywidgets control (text box, dropdown, slider...) whose description is `label`."""
    return scope.locator(f'.widget-inline-hbox:has(> label.widget-label:text-is("{label}"))')


def type_into(box, text: str, *, enter: bool = False) -> None:
    """Select what a text box holds and type over it, key by key."""
    box.click()
    box.press("ControlOrMeta+a")
    box.press_sequentially(text, delay=15)
    if enter:
        box.press("Enter")


def slide(slider, presses: int) -> None:
    """Move a slider's handle with the arrow keys: `presses` steps right (negative: left)."""
    handle = slider.locator(".noUi-handle")
    handle.focus()
    for _ in range(abs(presses)):
        handle.press("ArrowRight" if presses > 0 else "ArrowLeft")


def eventually(read, expected, *, timeout_s: float = 30, what: str = "the widget's output"):
    """Read the page until `read()` equals `expected` (the kernel answers asynchronously)."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = read()
        if got == expected:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not become what it should within {timeout_s:.0f} s:\n"
                                 f"  expected {expected!r}\n  shown    {got!r}")
        time.sleep(0.2)


def interactive_widget_cells(notebook: dict) -> list[int]:
    """Cells that display a control a person can set (progress bars are not)."""
    controls = ("Text(", "Dropdown(", "Slider(", "SelectMultiple(", "Select(", "IntText(", "FloatText(",
                "Checkbox(", "ToggleButtons(", "Button(", "RadioButtons(", "Textarea(")
    found = []
    for n, c in enumerate(notebook["cells"]):
        for out in c.get("outputs", []):
            data = out.get("data", {})
            if "application/vnd.jupyter.widget-view+json" in data and any(k in data.get("text/plain", "")
                                                                          for k in controls):
                found.append(n)
                break
    return found


def main(paths: list[str]) -> int:
    """`python tests/browser/harness.py build/*.html`: check `make demo`'s pages (`make check-demo`)."""
    if why := missing():
        print(f"cannot check the pages: {why}")
        return 2
    problems, figures = [], 0
    with browser() as chromium:
        page = chromium.new_page()
        for path in paths:
            found, shown = html_problems(page, Path(path))
            problems += found
            figures += shown
    print("\n".join(problems) or f"{len(paths)} pages, {figures} figures drawn, no error output")
    return 1 if problems or not paths else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
