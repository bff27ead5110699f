"""`videoldm-ref bench` (`89_bench`): each part runs and reports what it says, on tiny settings; no timing is asserted."""
import json

import pytest

from videoldm_ref.bench import bench_table, cuda_rows, stage_rows, unet_rows
from videoldm_ref.cli import main


def test_the_unet_rows_compare_three_models_timed_in_one_run():
    (row,) = unet_rows((4,), size=16, repeats=1)
    assert row["frames"] == 4 and row["threads"] >= 1
    assert row["ratio_to_svd"] == pytest.approx(row["video_unet_s"] / row["svd_unet_s"])
    assert row["temporal_overhead"] == pytest.approx(row["video_unet_s"] / row["image_unet_per_frame_s"])
    with pytest.raises(ValueError, match="repeats"):
        unet_rows((4,), repeats=0)


def test_the_stage_rows_refuse_a_video_of_one_frame():
    "Their run itself (a child process timing each stage of the shipped stack) is 89_bench's cell, which nbdev_test runs."
    with pytest.raises(ValueError, match="lengths"):
        stage_rows((1,))


def test_the_table_and_the_command(tmp_path, capsys):
    record = dict(machine=dict(cpu="x86_64", threads=2, torch="2.x"), unet=[dict(frames=8, ratio_to_svd=0.95)],
                  stages=[], cuda=[])
    table = bench_table(record)
    assert "ratio_to_svd" in table and "0.95" in table and "stages" not in table
    with pytest.raises(ValueError, match="repeats"):                     # checked before CUDA is looked for
        cuda_rows(repeats=0)
    with pytest.raises(SystemExit):
        main(["bench", "--frames", "eight"])
    assert "expected integers separated by commas" in capsys.readouterr().err
