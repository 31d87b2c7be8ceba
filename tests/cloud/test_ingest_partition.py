"""Which sites an ingest worker reads (pure): disjoint, covering, stable across processes."""
from __future__ import annotations

import pytest

from cloud.ingest.partition import Partition

SITES = [f"s{i:04d}" for i in range(500)] + ["porvoo", "imatra", "nurmes"]


def test_a_single_worker_reads_the_whole_tree():
    assert Partition.parse("0/1").filters(SITES) == ["etp/v1/#"]


def test_the_partitions_of_k_workers_cover_every_site_exactly_once():
    for count in (2, 3, 7):
        owners = {site: [i for i in range(count) if Partition(i, count).owns(site)]
                  for site in SITES}
        assert all(len(found) == 1 for found in owners.values())
        filters = [f for i in range(count) for f in Partition(i, count).filters(SITES)]
        assert sorted(filters) == sorted(f"etp/v1/{site}/#" for site in SITES)
        # a fleet of hundreds of sites spreads about evenly
        sizes = [sum(1 for found in owners.values() if found == [i]) for i in range(count)]
        assert min(sizes) > 0.7 * len(SITES) / count


def test_a_sites_partition_is_the_same_in_every_process():
    # CRC-32, not Python's hash(), which changes with PYTHONHASHSEED between processes
    assert [Partition(i, 2).owns("porvoo") for i in (0, 1)] == [True, False]
    assert [Partition(i, 2).owns("imatra") for i in (0, 1)] == [False, True]
    assert [i for i in range(3) if Partition(i, 3).owns("nurmes")] == [0]


def test_each_partition_has_its_own_fixed_client_id():
    assert Partition.parse("1/4").client_id == "ingest-1-of-4"
    assert Partition.parse(" 0/1 ").client_id == "ingest-0-of-1"
    assert str(Partition.parse("2/3")) == "2/3"


@pytest.mark.parametrize("text", ["", "1/1", "2/2", "-1/2", "0/0", "a/b", "0", "0/1/2"])
def test_a_partition_outside_its_count_is_a_configuration_error(text):
    with pytest.raises(ValueError, match="ETP_INGEST_PARTITION"):
        Partition.parse(text)
