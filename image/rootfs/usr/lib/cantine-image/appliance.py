"""What the first boot (`firstboot-early`, from a seed) and the console wizard (`console-setup`,
from an administrator's answers) both set up on the appliance, so that both do it the same way:
host name, firewall administration networks, administrator account, TLS certificate, public
URL. Imported by those two scripts from /usr/lib/cantine-image."""
import ipaddress
import os
import pathlib
import re
import subprocess
import time

T0 = time.monotonic()
PROGRAM = "cantine-setup"
HOSTNAME_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
PUBLIC_URL_RE = re.compile(r"^https://[A-Za-z0-9.-]+(:\d+)?(/.*)?$")


def log(msg):
    print(f"{PROGRAM}: {msg} ({time.monotonic() - T0:.1f} s)", flush=True)


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def write(path, text, mode=0o644, group=None):
    """Atomically: readers never see half a file."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    if group:
        os.chown(tmp, 0, int(subprocess.check_output(["getent", "group", group], text=True).split(":")[2]))
    os.replace(tmp, path)


def set_hostname(name, fqdn=""):
    """Returns the host name actually set ('cantine' when the one given is not valid)."""
    name = str(name).split(".")[0].lower()
    if not HOSTNAME_RE.match(name):
        log(f"invalid hostname {name!r}, keeping 'cantine'")
        name = "cantine"
    write("/etc/hostname", name + "\n")
    aliases = f"{fqdn} {name}" if fqdn else name
    hosts = pathlib.Path("/etc/hosts").read_text()
    hosts = re.sub(r"(?m)^127\.0\.1\.1\s.*$", f"127.0.1.1\t{aliases}", hosts)
    write("/etc/hosts", hosts)
    run("hostname", name)
    return name


def parse_networks(nets):
    """CIDRs (a list, or a string separated by spaces or commas) as (IPv4, IPv6) lists;
    ValueError on a malformed one."""
    if isinstance(nets, str):
        nets = nets.replace(",", " ").split()
    v4, v6 = [], []
    for n in nets:
        net = ipaddress.ip_network(str(n), strict=False)
        (v4 if net.version == 4 else v6).append(str(net))
    return v4, v6


def firewall(nets, origin):
    """The networks allowed to reach SSH and the metrics port (sets of /etc/nftables.conf)."""
    v4, v6 = parse_networks(nets)
    text = f"# Administration networks (SSH, metrics), from {origin}.\n"
    if v4:
        text += f"add element inet filter admin4 {{ {', '.join(v4)} }}\n"
    if v6:
        text += f"add element inet filter admin6 {{ {', '.join(v6)} }}\n"
    write("/etc/nftables.d/admin-networks.nft", text)
    log(f"administration networks: {' '.join(v4 + v6)}")


def admin_account(keys, password=None):
    """The 'admin' account (sudo). With a password, sudo asks for it; a key-only account
    cannot type one, so it gets sudo without."""
    # id fails exactly when the account does not exist yet
    if subprocess.run(["id", "admin"], capture_output=True, check=False).returncode != 0:
        run("useradd", "--create-home", "--shell", "/bin/bash", "--groups", "sudo",
            "--comment", "Cantine administrator", "admin")
    if keys:
        ssh = pathlib.Path("/home/admin/.ssh")
        ssh.mkdir(mode=0o700, exist_ok=True)
        write(ssh / "authorized_keys", "".join(k.strip() + "\n" for k in keys), 0o600)
        run("chown", "-R", "admin:admin", str(ssh))
    if password:
        run("chpasswd", input=f"admin:{password}\n", text=True)
        pathlib.Path("/etc/sudoers.d/cantine-admin").unlink(missing_ok=True)
    else:
        write("/etc/sudoers.d/cantine-admin", "admin ALL=(ALL:ALL) NOPASSWD: ALL\n", 0o440)
    log(f"administrator account 'admin' with {len(keys)} SSH key(s)"
        + (" and a password" if password else ""))


def public_url(url, fallback_host):
    """Writes the application's public URL; returns its host name."""
    url = str(url or f"https://{fallback_host}")
    if not PUBLIC_URL_RE.match(url):
        log(f"invalid public_url {url!r}, using https://{fallback_host}")
        url = f"https://{fallback_host}"
    write("/etc/cantine/cantine.env", f"# Written by {PROGRAM}.\nCANTINE_PUBLIC_URL={url}\n",
          0o640, "cantine")
    return re.sub(r"^https://([^/:]+).*$", r"\1", url)


def check_certificate_pair(cert, key):
    """ValueError unless cert is a PEM certificate whose public key is key's: nginx would not
    start with a mismatched pair, and the appliance would be unreachable over HTTPS."""
    def public_key(*cmd, text):
        # openssl fails on input that is not what it expects: the caller says which
        r = subprocess.run(cmd, input=text, capture_output=True, text=True, check=False)
        return r.stdout.strip() if r.returncode == 0 else None
    from_cert = public_key("openssl", "x509", "-noout", "-pubkey", text=cert)
    from_key = public_key("openssl", "pkey", "-pubout", "-passin", "pass:", text=key)
    if not from_cert:
        raise ValueError("the TLS certificate is not a PEM certificate")
    if not from_key:
        raise ValueError("the TLS private key is not a PEM private key (without a passphrase)")
    if from_cert != from_key:
        raise ValueError("the TLS private key does not belong to the certificate")


def tls(names, cert=None, key=None):
    """The certificate nginx serves: the one given, else a new self-signed one for names."""
    d = pathlib.Path("/etc/cantine/tls")
    d.mkdir(mode=0o755, parents=True, exist_ok=True)
    if cert and key:
        check_certificate_pair(cert, key)
        write(d / "key.pem", key, 0o600)
        write(d / "cert.pem", cert)
        log("TLS certificate given in the settings")
        return
    names = [n for n in dict.fromkeys(names) if n]
    san = ",".join(f"DNS:{n}" for n in names)
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-days", "825", "-subj", f"/O=Cantine appliance/CN={names[0]}",
        "-addext", f"subjectAltName={san}", "-keyout", str(d / "key.pem.tmp"),
        "-out", str(d / "cert.pem.tmp"), stderr=subprocess.DEVNULL)
    os.chmod(d / "key.pem.tmp", 0o600)
    os.replace(d / "key.pem.tmp", d / "key.pem")
    os.replace(d / "cert.pem.tmp", d / "cert.pem")
    log(f"self-signed TLS certificate for {', '.join(names)}")
