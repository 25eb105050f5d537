"""The pure half of the first boot (`firstboot-early`): a seed's settings turned into the files
the appliance is configured by, without touching the machine, so that image/scripts/seed_test.py
can test every translation and every refusal on the build host. firstboot-early reads the seed,
calls these and writes what they return; it imports this module from /usr/lib/cantine-image.

A mistake in the seed raises SeedError (a ValueError) that names the setting: firstboot-early
reports it and carries on with the rest, so that one typo does not leave the machine unreachable.
"""
import ipaddress
import json
import re
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import PurePosixPath


class SeedError(ValueError):
    """A setting of the seed that cannot be applied; the message says which and why."""


SECRETS = PurePosixPath("/etc/cantine/secrets")
DROP_INS = PurePosixPath("/etc/cantine/cantine.toml.d")
NETWORK_DIR = PurePosixPath("/etc/systemd/network")
LOCAL_REPOSITORY = "/var/backups/cantine/restic"
TARGET_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
KEEP_KEYS = ("hourly", "daily", "weekly", "monthly")
MAC_RE = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")
SENDER_RE = re.compile(r"[^<>@]*<[^<>@\s]+@[^<>@\s]+>|[^<>@\s]+@[^<>@\s]+")


@dataclass(frozen=True)
class Secret:
    """A file in the secrets folder, readable by the service group. value is the seed's; None
    asks for a random one made once on the machine (a re-run never changes it)."""

    name: str
    value: str | None = None

    @property
    def path(self):
        return SECRETS / self.name

    @property
    def text(self):
        return None if self.value is None else self.value.strip() + "\n"


@dataclass
class DropIn:
    """A configuration drop-in (mode 0640, group cantine) and the secrets it points to, which
    must be written with it."""

    path: PurePosixPath
    text: str
    secrets: list = field(default_factory=list)
    summary: str = ""  # for the journal


def mapping(value, what):
    """value as a dict ({} for an absent or empty one); SeedError for anything else."""
    if not value:
        return {}
    if not isinstance(value, dict):
        raise SeedError(f"{what} must be a mapping, not {type(value).__name__}")
    return value


def sequence(value, what):
    """value as a list ([] for an absent or empty one); SeedError for anything else, a lone
    string included (it would otherwise be read character by character)."""
    if not value:
        return []
    if not isinstance(value, list):
        raise SeedError(f"{what} must be a list, not {type(value).__name__}")
    return value


def toml_str(value):
    # a JSON string (ASCII, escaped) is a valid TOML basic string
    return json.dumps(str(value))


OVF_ENV_NS = "http://schemas.dmtf.org/ovf/environment/1"


def parse_ovf_env(text):
    """The vApp properties of an OVF environment document (DSP0243), as a seed: (meta-data,
    user-data, network-config). Keys are those of the OVA's ProductSection (make-ova.py)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise SeedError(f"the OVF environment is not well-formed XML: {e}") from None
    if root.tag != f"{{{OVF_ENV_NS}}}Environment":
        raise SeedError(f"the OVF environment's root element is {root.tag}, not Environment "
                        f"in the namespace {OVF_ENV_NS}")
    props = {}
    for p in root.iter(f"{{{OVF_ENV_NS}}}Property"):
        props[p.get(f"{{{OVF_ENV_NS}}}key")] = (p.get(f"{{{OVF_ENV_NS}}}value") or "").strip()
    user = {"cantine": {}}
    if props.get("hostname"):
        user["hostname"] = props["hostname"]
    if props.get("public_url"):
        user["cantine"]["public_url"] = props["public_url"]
    if props.get("ssh_authorized_key"):
        user["ssh_authorized_keys"] = [props["ssh_authorized_key"]]
    if props.get("admin_networks"):
        user["cantine"]["admin_networks"] = props["admin_networks"].replace(",", " ").split()
    network = {}
    if props.get("ip_address"):
        # every Ethernet interface: a VMware appliance has one
        eth = {"match": {"name": "en*"}, "addresses": [props["ip_address"]]}
        if props.get("gateway"):
            eth["gateway4"] = props["gateway"]
        if props.get("dns_servers"):
            eth["nameservers"] = {"addresses": props["dns_servers"].replace(",", " ").split()}
        network = {"version": 2, "ethernets": {"lan": eth}}
    return {}, user, network


def _ip(parse, value, what):
    # ipaddress also takes integers and bytes: only the text form is a valid seed value
    if not isinstance(value, str):
        raise SeedError(f"{what} must be a string, not {type(value).__name__}")
    try:
        return parse(value)
    except ValueError as e:
        raise SeedError(f"{what}: {e}") from None


def _ethernet(ident, e):
    what = f"ethernets.{ident}"
    e = mapping(e, what)
    match = mapping(e.get("match"), f"{what}.match")
    lines = ["[Match]"]
    if match.get("macaddress"):
        mac = match["macaddress"]
        # networkd ignores a malformed MACAddress=, and a [Match] left empty matches every interface
        if not isinstance(mac, str) or not MAC_RE.match(mac):
            raise SeedError(f"{what}.match.macaddress {mac!r}: six hexadecimal pairs separated by ':'")
        lines.append(f"MACAddress={mac}")
    else:
        name = match["name"] if "name" in match else str(ident)
        if not isinstance(name, str) or not name or any(c.isspace() or not c.isprintable() for c in name):
            raise SeedError(f"{what}.match.name {name!r}: one interface name or glob")
        lines.append(f"Name={name}")
    lines += ["", "[Network]"]
    dhcp4, dhcp6 = bool(e.get("dhcp4")), bool(e.get("dhcp6"))
    if dhcp4 or dhcp6:
        lines.append("DHCP=" + ("yes" if dhcp4 and dhcp6 else "ipv4" if dhcp4 else "ipv6"))
    for a in sequence(e.get("addresses"), f"{what}.addresses"):
        _ip(ipaddress.ip_interface, a, f"{what}.addresses")  # refuse malformed input rather than write it
        lines.append(f"Address={a}")
    for key in ("gateway4", "gateway6"):
        if e.get(key):
            lines.append(f"Gateway={_ip(ipaddress.ip_address, e[key], f'{what}.{key}')}")
    nameservers = mapping(e.get("nameservers"), f"{what}.nameservers")
    for ns in sequence(nameservers.get("addresses"), f"{what}.nameservers.addresses"):
        lines.append(f"DNS={_ip(ipaddress.ip_address, ns, f'{what}.nameservers.addresses')}")
    for r in sequence(e.get("routes"), f"{what}.routes"):
        r = mapping(r, f"{what}.routes")
        if "to" not in r or "via" not in r:
            raise SeedError(f"{what}.routes: each route needs 'to' and 'via'")
        via = _ip(ipaddress.ip_address, r["via"], f"{what}.routes.via")
        to = r["to"] if r["to"] != "default" else ("::/0" if via.version == 6 else "0.0.0.0/0")
        lines += ["", "[Route]", f"Destination={_ip(ipaddress.ip_network, to, f'{what}.routes.to')}",
                  f"Gateway={via}"]
    return "\n".join(lines) + "\n"


def network_files(netcfg):
    """Translates a netplan-style (version 2) network-config into systemd-networkd files:
    [(path, text)], one per ethernet, in the order of their names. Only ethernets with match
    (macaddress/name), dhcp4/dhcp6, addresses, gateway4/gateway6, routes and nameservers are
    understood. An empty list means the shipped DHCP default stays; otherwise it has to go, as
    it would also match the configured interfaces."""
    cfg = mapping(netcfg, "network-config")
    cfg = mapping(cfg.get("network", cfg), "network-config: network")
    if cfg.get("version", 2) != 2:
        raise SeedError(f"network-config version {cfg['version']!r}: only version 2 (netplan) is understood")
    eths = mapping(cfg.get("ethernets"), "network-config: ethernets")
    # names compared as text: YAML may give numbers, which do not sort with strings
    items = sorted(eths.items(), key=lambda kv: str(kv[0]))
    return [(NETWORK_DIR / f"10-seed-{i}.network", _ethernet(ident, e))
            for i, (ident, e) in enumerate(items)]


def _keep(value):
    keep = mapping(value, "backup.keep")
    unknown = sorted(str(k) for k in keep if k not in KEEP_KEYS)
    if unknown:
        raise SeedError(f"backup.keep: unknown {', '.join(unknown)} (known: {', '.join(KEEP_KEYS)})")
    pairs = []
    for k, v in keep.items():
        try:
            n = int(v)
        except (TypeError, ValueError):
            raise SeedError(f"backup.keep.{k} {v!r}: a number of snapshots") from None
        if isinstance(v, bool) or n < 0:
            raise SeedError(f"backup.keep.{k} {v!r}: a number of snapshots")
        pairs.append(f"{k} = {n}")
    return ", ".join(pairs)


def _seed_secret(name, value, what):
    if value is not None and not str(value).strip():
        raise SeedError(f"{what} is empty: give one, or leave it out to have one generated")
    return Secret(name, None if value is None else str(value))


def backup_drop_in(cfg):
    """Backup targets for the application, as a drop-in over the packaged configuration:
    always a local repository on the appliance's disk (with its own random password), unless
    the seed says local: false, plus the seed's targets (second site). Repository passwords the
    seed does not give are generated: `cantine backup escrow` prints them for safekeeping."""
    b = mapping(cfg.get("backup"), "backup")
    lines = ["# Written at first boot from the seed (cantine-firstboot-early). Secrets are in",
             "# /etc/cantine/secrets; `cantine backup escrow` seals them for offline storage.", ""]
    if b.get("keep"):
        lines += ["[backup]", f"keep = {{ {_keep(b['keep'])} }}", ""]
    targets, secrets = [], []

    def secret(s):
        secrets.append(s)
        return s.path

    if b.get("local", True):
        targets.append({"name": "local", "repository": LOCAL_REPOSITORY,
                        "password_file": secret(Secret("backup-local.password"))})
    for t in sequence(b.get("targets"), "backup.targets"):
        t = mapping(t, "backup.targets")
        name = str(t.get("name") or "")
        if not TARGET_NAME_RE.match(name) or any(x["name"] == name for x in targets):
            raise SeedError(f"backup target name {name!r}: lowercase letters, digits and '-', unique")
        repo = str(t.get("repository") or "")
        if not repo.startswith(("rest:https://", "rest:http://", "/")):
            raise SeedError(f"backup target {name}: repository must be rest:https://... or a path")
        password = _seed_secret(f"backup-{name}.password", t.get("password"), f"backup target {name}: password")
        target = {"name": name, "repository": repo, "password_file": secret(password)}
        if t.get("rest_password"):
            target["rest_password_file"] = secret(Secret(f"backup-{name}.rest-password", str(t["rest_password"])))
        if t.get("ca_certificate"):
            target["ca_cert"] = secret(Secret(f"backup-{name}-ca.pem", str(t["ca_certificate"])))
        if t.get("append_only"):
            target["append_only"] = True
        targets.append(target)
    for t in targets:
        lines.append("[[backup.targets]]")
        lines += [f"{k} = {'true' if v is True else toml_str(v)}" for k, v in t.items()]
        lines.append("")
    summary = ", ".join(t["name"] for t in targets) or "none"
    return DropIn(DROP_INS / "50-backup.toml", "\n".join(lines), secrets, summary)


def mail_drop_in(cfg):
    """The seed's SMTP relay as a drop-in (None without one); its password goes to the secrets
    folder. Checked here as the application checks it, so that a mistake fails first boot, not
    the web service."""
    m = mapping(cfg.get("smtp"), "smtp")
    if not m:
        return None
    url = urllib.parse.urlsplit(str(m.get("url") or ""))
    if url.scheme not in ("smtp", "smtps") or not url.hostname or url.password:
        raise SeedError("smtp.url must be smtp://[user@]host[:port] (STARTTLS) or smtps://..., "
                        "with the password in smtp.password")
    try:
        # reading the property is the check: it raises ValueError on a port that is not a number
        url.port  # noqa: B018
    except ValueError as e:
        raise SeedError(f"smtp.url: {e}") from None
    lines = ["# Written at first boot from the seed (cantine-firstboot-early).", "[mail]",
             f"smtp_url = {toml_str(url.geturl())}"]
    secrets = []
    if m.get("password"):
        secrets.append(Secret("smtp.password", str(m["password"])))
        lines.append(f"smtp_password_file = {toml_str(secrets[-1].path)}")
    if m.get("from"):
        sender = str(m["from"])
        if not SENDER_RE.fullmatch(sender.strip()):
            raise SeedError(f"smtp.from {sender!r}: an address, or a name and <address>")
        lines.append(f"from = {toml_str(sender.strip())}")
    return DropIn(DROP_INS / "40-mail.toml", "\n".join(lines) + "\n", secrets, url.hostname)


def payfip_json(cfg):
    """The seed's payfip section as JSON (None without one), kept for the billing part of the
    application, which will read it from /etc/cantine/payfip.json."""
    if not cfg.get("payfip"):
        return None
    try:
        return json.dumps(cfg["payfip"], indent=2) + "\n"
    except (TypeError, ValueError) as e:
        raise SeedError(f"payfip: {e}") from None
