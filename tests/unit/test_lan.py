"""The addresses the start-up line offers Plex when stashplex listens on every interface."""

from __future__ import annotations

from stashplex import lan
from stashplex.daemon import register_lines, register_urls
from stashplex.settings import load

ROUTES = (
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
    "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
    "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
    "eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"
)


def test_the_default_route_names_the_lan_interface() -> None:
    assert lan.default_route_interface(ROUTES) == "eth0"
    no_default = "".join(ROUTES.splitlines(keepends=True)[:2])
    assert lan.default_route_interface(no_default) is None
    assert lan.default_route_interface("") is None


def test_addresses_put_the_default_routes_first_and_leave_out_the_unreachable() -> None:
    found = {
        "lo": "127.0.0.1",
        "docker0": "172.17.0.1",
        "eth0": "192.168.1.81",
        "wg0": "8.8.4.4",
        "odd": "169.254.10.1",
    }
    assert lan.order(found, "eth0") == ["192.168.1.81", "172.17.0.1", "8.8.4.4"]
    assert lan.order(found, None)[-1] == "8.8.4.4"  # private ones first
    assert lan.order({"lo": "127.0.0.1"}, "lo") == []


def test_this_machines_addresses_are_read_locally() -> None:
    found = lan.addresses()
    assert all(lan.usable(address) for address in found)
    assert not any(address.startswith("127.") for address in found)


def test_bound_to_every_interface_plex_is_offered_the_lan_addresses() -> None:
    settings = load(None, {}, search=False)  # host 0.0.0.0, port 7979
    urls = register_urls(settings, lambda: ["192.168.1.81", "172.17.0.1"])
    assert urls == ["http://192.168.1.81:7979", "http://172.17.0.1:7979"]
    lines = register_lines(settings, urls, in_container=False)
    assert lines[0] == (
        "add this URL in Plex under Settings > Metadata Agents: http://192.168.1.81:7979"
        " (or, from another network: http://172.17.0.1:7979)"
    )
    assert not any("container" in line for line in lines)
    assert any("container" in line for line in register_lines(settings, urls, in_container=True))
    # Nothing found: the loopback address, the last resort.
    assert register_urls(settings, lambda: []) == ["http://127.0.0.1:7979"]


def test_a_configured_url_or_a_bound_address_is_offered_as_it_is() -> None:
    configured = load(None, {"AGENT_BASE_URL": "http://nas.local:7979"}, search=False)
    assert register_urls(configured, lambda: ["192.168.1.81"]) == ["http://nas.local:7979"]
    bound = load(None, {"STASHPLEX_PLEXAGENTSERVER_HOST": "10.0.0.5"}, search=False)
    assert register_urls(bound, lambda: ["192.168.1.81"]) == ["http://10.0.0.5:7979"]
    assert register_lines(bound, ["http://10.0.0.5:7979"], in_container=True) == [
        "add this URL in Plex under Settings > Metadata Agents: http://10.0.0.5:7979"
    ]
