"""examples/notebook.ipynb runs top to bottom in a real Jupyter kernel (ipykernel via
nbclient), where an event loop is already running in the kernel's main thread."""

from __future__ import annotations

from pathlib import Path
from typing import Dict

import nbformat
import pytest
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _text(cell: nbformat.NotebookNode) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif output["output_type"] in ("execute_result", "display_data"):
            parts.append(output["data"].get("text/plain", "") + "\n")
        elif output["output_type"] == "error":
            parts.append(f"ERROR {output['ename']}: {output['evalue']}\n")
    return "".join(parts)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, str]:
    """Output text of each tagged cell after running the whole notebook."""
    runtime = tmp_path_factory.mktemp("jupyter-runtime")
    nb = nbformat.read(EXAMPLES / "notebook.ipynb", as_version=4)
    client = NotebookClient(
        nb,
        timeout=60,
        kernel_name="python3",
        resources={"metadata": {"path": str(EXAMPLES)}},
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
        mp.setenv("IPYTHONDIR", str(runtime / "ipython"))
        client.execute()  # raises CellExecutionError on the first failing cell
    return {cell.metadata["tags"][0]: _text(cell) for cell in nb.cells if cell.metadata.get("tags")}


def test_every_code_cell_is_tagged_and_ran_cleanly(executed: Dict[str, str]) -> None:
    nb = nbformat.read(EXAMPLES / "notebook.ipynb", as_version=4)
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.metadata.get("tags") for cell in code_cells)
    assert len(executed) == len(code_cells)
    assert not any("ERROR" in text or "Traceback" in text for text in executed.values())


def test_the_kernel_loop_is_running_in_the_cells(executed: Dict[str, str]) -> None:
    assert executed["server"].startswith("'ws://127.0.0.1:")
    assert executed["kernel-loop"] == "kernel loop running: True\n"


def test_blocking_use_and_timeout(executed: Dict[str, str]) -> None:
    assert executed["blocking"] == "TEXT hello from a cell\n"
    assert executed["timeout"] == "nothing within 0.5 s; still open: True\n"


def test_background_consumer_and_close(executed: Dict[str, str]) -> None:
    assert executed["consumer"] == ""
    assert executed["received"] == "['tick 0', 'tick 1', 'tick 2', 'tick 3', 'tick 4']\n"
    assert executed["close"] == "closed: True code: 1000 consumer alive: False\n"
    assert executed["with"] == "{'n': 1}\nclosed: True\n"


def test_async_api_with_top_level_await(executed: Dict[str, str]) -> None:
    assert executed["async"] == "from a coroutine\n"
