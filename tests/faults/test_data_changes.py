"""The data changes under a running job: files listed, then deleted or
rewritten before the streaming pipeline reads them, are skipped and counted
in the report; the epoch goes on with the rest."""

import numpy as np
from PIL import Image

from zoo.data.images import decode_resized
from zoo.data.pipeline import decode_items
from zoo.data.report import DataReport


def _folder(tmp_path, count=12):
    paths = []
    for index in range(count):
        path = tmp_path / "images" / f"{index:02d}.png"
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(np.full((10, 10, 3), index * 20, np.uint8)).save(path)
        paths.append(str(path))
    return paths


def test_files_deleted_or_rewritten_mid_epoch_are_skipped_and_counted(tmp_path, caplog):
    paths = _folder(tmp_path)
    report = DataReport(root=str(tmp_path / "images"), kind="classification",
                        counts={"all": len(paths)})
    items = [(path, index % 2) for index, path in enumerate(paths)]

    def decode(item):
        return decode_resized(item[0], (8, 8)), np.int32(item[1])

    # A zero budget forces streaming, as for a folder larger than memory.
    decoded = decode_items(items, decode, [((8, 8, 3), np.uint8), ((), np.int32)], report,
                           ["all"] * len(items), memory_budget=0,
                           cache_dir=str(tmp_path / "cache"), cache_key="changing")
    assert not decoded.in_memory
    # Listed, then changed before the first epoch reads them:
    (tmp_path / "images" / "03.png").unlink()
    (tmp_path / "images" / "07.png").write_bytes(b"\x89PNG\r\n\x1a\n half rewritten")
    # A file rewritten whole (another size) is simply read as it is now.
    Image.fromarray(np.zeros((30, 20, 3), np.uint8)).save(tmp_path / "images" / "09.png")

    seen = 0
    for images, labels in decoded.batches(4, shuffle=False, seed=0):
        seen += len(labels)
    assert seen == len(paths) - 2                        # the epoch went to its end
    assert report.kept == len(paths) - 2
    skipped = {s.path: s.reason for s in report.skipped}
    assert set(skipped) == {"03.png", "07.png"}
    assert "deleted after the folder was listed" in skipped["03.png"]
    assert "07.png" in caplog.text and "03.png" in caplog.text
    assert "skipped 2 files" in report.summary()


def test_a_decoder_that_lets_an_os_error_through_costs_one_file(tmp_path):
    paths = _folder(tmp_path, 4)
    report = DataReport(root=str(tmp_path / "images"), kind="unpaired", counts={"a": 4})

    def decode(path):
        # np.load and other readers raise FileNotFoundError themselves.
        with open(path, "rb"):
            pass
        return (decode_resized(path, (8, 8)),)

    decoded = decode_items(paths, decode, [((8, 8, 3), np.uint8)], report, ["a"] * 4,
                           memory_budget=0, cache_dir=str(tmp_path / "cache"), cache_key="os")
    (tmp_path / "images" / "01.png").unlink()
    assert sum(len(batch) for batch in decoded.batches(2, shuffle=False, seed=0)) == 3
    assert [s.path for s in report.skipped] == ["01.png"] and report.kept == 3
