"""sfone._guard: the budgets refuse hostile structures and accept what real files hold."""

from __future__ import annotations

import os

import numpy as np
import pytest

from sfone._guard import (
    MAX_DEPTH,
    check_expansion,
    check_input_kind,
    head_lines,
    load_yaml,
    loads_json,
    node_budget,
)
from sfone.exceptions import FormatError, ProtocolError


def _nested(levels: int, leaf=1):
    value = [leaf]
    for _ in range(levels - 1):
        value = [value]
    return value


def test_shared_references_are_counted_each_time_they_are_reached():
    shared = list(range(10))
    check_expansion([shared] * 10, what="x", path="data.npy", max_nodes=111)  # 1 + 10 + 100
    with pytest.raises(FormatError, match="data.npy: x expands to more than 110 objects"):
        check_expansion([shared] * 10, what="x", path="data.npy", max_nodes=110)


def test_text_and_array_bytes_are_counted_each_time_they_are_reached():
    block = np.zeros(1000)  # 8000 bytes
    check_expansion([block] * 3, what="x", path="data.npy", max_nodes=10, max_bytes=24_008)
    with pytest.raises(FormatError, match="more than 24000 bytes of text and arrays"):
        check_expansion([block] * 3, what="x", path="data.npy", max_nodes=10, max_bytes=24_000)
    with pytest.raises(FormatError, match="bytes of text"):
        check_expansion(["x" * 1000] * 100, what="x", path="data.npy", max_nodes=1000,
                        max_bytes=50_000)


def test_nesting_depth_up_to_the_limit_is_accepted():
    check_expansion(_nested(MAX_DEPTH), what="x", path="data.npy", max_nodes=1000)
    with pytest.raises(FormatError, match=f"nested more than {MAX_DEPTH} levels deep"):
        check_expansion(_nested(MAX_DEPTH + 1), what="x", path="data.npy", max_nodes=1000)


def test_object_arrays_of_dicts_are_walked():
    stat = np.array([{"ypix": np.arange(5), "med": [1, 2]} for _ in range(3)], dtype=object)
    check_expansion(stat, what="stat", path="data.npy", max_nodes=100)
    deep = np.empty(1, dtype=object)
    deep[0] = _nested(MAX_DEPTH)
    with pytest.raises(FormatError, match="nested more than"):
        check_expansion(deep, what="stat", path="data.npy", max_nodes=1000)


def test_hostile_expansion_is_refused_after_at_most_the_budget():
    tree = ["lol"]
    for _ in range(9):
        tree = [tree] * 10  # 10**9 leaves
    with pytest.raises(FormatError, match="more than 1000000 objects"):
        check_expansion(tree, what="x", path="data.npy", max_nodes=node_budget(0))


def test_yaml_with_a_few_aliases_for_shared_defaults_loads(tmp_path):
    path = tmp_path / "manifest.yaml"
    path.write_text("defaults: &d {group: trained, day: day1}\n"
                    "sessions:\n"
                    "  - {path: a, subject: m1, session: s1, <<: *d}\n"
                    "  - {path: b, subject: m2, session: s1, <<: *d}\n")
    data = load_yaml(path)
    assert [s["group"] for s in data["sessions"]] == ["trained", "trained"]


def test_yaml_errors_are_one_line_naming_file_line_and_column(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("kind: classification\nbaseline_s: [1, 2\n")
    with pytest.raises(ProtocolError) as caught:
        load_yaml(path, error=ProtocolError, what="protocol file")
    message = str(caught.value)
    assert message.startswith(f"{path}: not valid YAML (protocol file): ")
    assert "line 3" in message and "\n" not in message


def test_yaml_python_tags_build_nothing(tmp_path):
    sentinel = tmp_path / "PWNED"
    path = tmp_path / "x.yaml"
    path.write_text(f"a: !!python/object/apply:os.system ['touch {sentinel}']\n")
    with pytest.raises(FormatError, match="python/object/apply"):
        load_yaml(path)
    assert not sentinel.exists()


def test_yaml_larger_than_the_limit_is_refused_before_parsing(tmp_path):
    path = tmp_path / "big.yaml"
    with open(path, "wb") as fh:
        fh.truncate(5 * 2**20)
    with pytest.raises(FormatError, match=r"big\.yaml: YAML is 5242880 bytes; .* at most"):
        load_yaml(path)


def test_json_nested_past_the_parser_is_a_format_error():
    with pytest.raises(FormatError, match="data.npy: attr 'a' is JSON nested too deeply"):
        loads_json("[" * 100_000 + "]" * 100_000, what="attr 'a'", path="data.npy")
    with pytest.raises(FormatError, match="nested more than 100 levels"):
        loads_json("[" * 150 + "]" * 150, what="attr 'a'", path="data.npy")
    assert loads_json('{"a": [1, 2]}', what="attr 'a'", path="data.npy") == {"a": [1, 2]}


def test_head_lines_reads_a_bounded_head_like_readline(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"a,b\r\n1,2\n" + b"x" * 100_000)
    assert head_lines(path, 4, max_bytes=1000) == ["a,b\r\n", "1,2\n", "x" * 991, ""]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_special_files_are_refused_and_regular_ones_pass(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(FormatError, match="pipe: is a FIFO"):
        check_input_kind(fifo)
    link = tmp_path / "link"
    link.symlink_to(fifo)
    with pytest.raises(FormatError, match="is a FIFO"):
        check_input_kind(link)  # links are followed
    regular = tmp_path / "f.csv"
    regular.write_text("a\n")
    check_input_kind(regular)
    check_input_kind(tmp_path)
    check_input_kind(tmp_path / "missing")  # left to the caller
