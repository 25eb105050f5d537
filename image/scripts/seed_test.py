"""Tests of what first boot makes of a seed (rootfs/usr/lib/cantine-image/seed.py): the OVF
environment's properties, network-config to systemd-networkd files, backup targets to the
50-backup.toml drop-in and the SMTP relay to 40-mail.toml and its password file; every kind of
mistake must be refused with a SeedError (a ValueError) naming the setting, which
firstboot-early reports (`make test` runs them)."""
import ast
import pathlib
import sys
import unittest

CANTINE_IMAGE = pathlib.Path(__file__).parents[1] / "rootfs/usr/lib/cantine-image"
sys.path.insert(0, str(CANTINE_IMAGE))
import seed  # noqa: E402

OVF_ENV = """<?xml version="1.0" encoding="UTF-8"?>
<Environment xmlns="http://schemas.dmtf.org/ovf/environment/1"
             xmlns:oe="http://schemas.dmtf.org/ovf/environment/1" oe:id="cantine">
  <PropertySection>
{}  </PropertySection>
</Environment>
"""


def ovf_env(**props):
    return OVF_ENV.format("".join(f'    <Property oe:key="{k}" oe:value="{v}"/>\n' for k, v in props.items()))


class OvfEnvironment(unittest.TestCase):
    def test_every_property_becomes_its_setting(self):
        meta, user, network = seed.parse_ovf_env(ovf_env(
            hostname="cantine-ovf", public_url="https://cantine.example.test",
            ssh_authorized_key="ssh-ed25519 AAAAC3Nza admin@example", admin_networks="10.0.2.0/24, 192.168.0.0/16",
            ip_address="10.0.2.15/24", gateway="10.0.2.2", dns_servers="10.0.2.3 10.0.2.4"))
        self.assertEqual(meta, {})
        self.assertEqual(user, {
            "hostname": "cantine-ovf",
            "ssh_authorized_keys": ["ssh-ed25519 AAAAC3Nza admin@example"],
            "cantine": {"public_url": "https://cantine.example.test",
                        "admin_networks": ["10.0.2.0/24", "192.168.0.0/16"]}})
        self.assertEqual(network, {"version": 2, "ethernets": {"lan": {
            "match": {"name": "en*"}, "addresses": ["10.0.2.15/24"], "gateway4": "10.0.2.2",
            "nameservers": {"addresses": ["10.0.2.3", "10.0.2.4"]}}}})
        # and what the network part becomes on the appliance
        self.assertEqual(seed.network_files(network), [(
            pathlib.PurePosixPath("/etc/systemd/network/10-seed-0.network"),
            "[Match]\nName=en*\n\n[Network]\nAddress=10.0.2.15/24\nGateway=10.0.2.2\n"
            "DNS=10.0.2.3\nDNS=10.0.2.4\n")])

    def test_empty_or_blank_properties_are_left_out(self):
        # vCenter passes every property of the descriptor, unset ones with an empty value
        meta, user, network = seed.parse_ovf_env(ovf_env(hostname=" ", public_url="", ip_address="",
                                                         admin_networks="10.1.0.0/16"))
        self.assertEqual(user, {"cantine": {"admin_networks": ["10.1.0.0/16"]}})
        self.assertEqual(network, {})

    def test_malformed_xml_is_refused(self):
        with self.assertRaisesRegex(seed.SeedError, "not well-formed XML"):
            seed.parse_ovf_env(ovf_env(hostname="x").replace("</Environment>", ""))

    def test_other_document_is_refused(self):
        with self.assertRaisesRegex(seed.SeedError, "root element"):
            seed.parse_ovf_env('<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"/>')


class Network(unittest.TestCase):
    def files(self, netcfg):
        return {str(path): text for path, text in seed.network_files(netcfg)}

    def test_static_and_dhcp_interfaces_one_file_each_in_name_order(self):
        files = self.files({"network": {"version": 2, "ethernets": {
            "wan": {"match": {"macaddress": "52:54:00:12:34:56"}, "dhcp4": True, "dhcp6": True},
            "lan": {"addresses": ["192.0.2.10/24", "2001:db8::10/64"], "gateway4": "192.0.2.1",
                    "gateway6": "2001:db8::1", "nameservers": {"addresses": ["192.0.2.53"]},
                    "routes": [{"to": "198.51.100.0/24", "via": "192.0.2.254"},
                               {"to": "default", "via": "2001:db8::1"}]},
            "v6only": {"match": {"name": "ens5"}, "dhcp6": True}}}})
        self.assertEqual(files, {
            "/etc/systemd/network/10-seed-0.network":
                "[Match]\nName=lan\n\n[Network]\nAddress=192.0.2.10/24\nAddress=2001:db8::10/64\n"
                "Gateway=192.0.2.1\nGateway=2001:db8::1\nDNS=192.0.2.53\n\n"
                "[Route]\nDestination=198.51.100.0/24\nGateway=192.0.2.254\n\n"
                "[Route]\nDestination=::/0\nGateway=2001:db8::1\n",
            "/etc/systemd/network/10-seed-1.network": "[Match]\nName=ens5\n\n[Network]\nDHCP=ipv6\n",
            "/etc/systemd/network/10-seed-2.network":
                "[Match]\nMACAddress=52:54:00:12:34:56\n\n[Network]\nDHCP=yes\n"})

    def test_default_ipv4_route_and_dhcp4(self):
        files = self.files({"ethernets": {"eth0": {"dhcp4": True, "routes": [{"to": "default", "via": "10.0.0.1"}]}}})
        self.assertEqual(files["/etc/systemd/network/10-seed-0.network"],
                         "[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n\n"
                         "[Route]\nDestination=0.0.0.0/0\nGateway=10.0.0.1\n")

    def test_without_ethernets_the_dhcp_default_stays(self):
        for netcfg in (None, {}, {"version": 2}, {"network": {"version": 2, "ethernets": {}}}):
            with self.subTest(netcfg=netcfg):
                self.assertEqual(seed.network_files(netcfg), [])

    def test_mistakes_are_refused_naming_the_setting(self):
        def eth(**e):
            return {"version": 2, "ethernets": {"eth0": e}}
        cases = {
            "ethernets.eth0.addresses": eth(addresses=["192.0.2.300/24"]),
            "ethernets.eth0.addresses must be a list": eth(addresses="192.0.2.10/24"),
            "ethernets.eth0.gateway4": eth(gateway4="192.0.2"),
            "ethernets.eth0.gateway6 must be a string": eth(gateway6=42),
            "ethernets.eth0.nameservers.addresses": eth(nameservers={"addresses": ["dns.example"]}),
            "ethernets.eth0.nameservers must be a mapping": eth(nameservers=["192.0.2.53"]),
            "each route needs 'to' and 'via'": eth(routes=[{"to": "default"}]),
            "ethernets.eth0.routes.to": eth(routes=[{"to": "192.0.2.1/24", "via": "192.0.2.254"}]),
            "ethernets.eth0.match.macaddress": eth(match={"macaddress": "52:54:00:12:34"}),
            "ethernets.eth0.match.name": eth(match={"name": "eth0\n[Network]"}),
            "ethernets.eth0 must be a mapping": {"ethernets": {"eth0": ["dhcp4"]}},
            "ethernets must be a mapping": {"ethernets": ["eth0"]},
            "only version 2": {"version": 1, "config": [{"type": "physical", "name": "eth0"}]},
            "network-config must be a mapping": ["eth0"],
        }
        for message, netcfg in cases.items():
            with self.subTest(message), self.assertRaisesRegex(seed.SeedError, message):
                seed.network_files(netcfg)


SECOND_SITE = {"name": "second-site", "repository": "rest:https://cantine@backup.example.test:8000/cantine/",
               "password": "repo-secret\n", "rest_password": "http-secret", "append_only": True,
               "ca_certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}
HEADER = ("# Written at first boot from the seed (cantine-firstboot-early). Secrets are in\n"
          "# /etc/cantine/secrets; `cantine backup escrow` seals them for offline storage.\n\n")
# targets are separated by a blank line; the file ends with the last one's last line
LOCAL = ('[[backup.targets]]\nname = "local"\nrepository = "/var/backups/cantine/restic"\n'
         'password_file = "/etc/cantine/secrets/backup-local.password"\n')


class Backup(unittest.TestCase):
    def secrets(self, drop_in):
        return {str(s.path): s.text for s in drop_in.secrets}

    def test_without_a_backup_section_the_local_repository_only(self):
        drop_in = seed.backup_drop_in({})
        self.assertEqual(str(drop_in.path), "/etc/cantine/cantine.toml.d/50-backup.toml")
        self.assertEqual(drop_in.text, HEADER + LOCAL)
        # None: a random password made once on the appliance
        self.assertEqual(self.secrets(drop_in), {"/etc/cantine/secrets/backup-local.password": None})
        self.assertEqual(drop_in.summary, "local")

    def test_second_site_with_retention_and_its_secrets(self):
        drop_in = seed.backup_drop_in({"backup": {"keep": {"hourly": 6, "daily": "7"}, "targets": [SECOND_SITE]}})
        self.assertEqual(drop_in.text, HEADER + "[backup]\nkeep = { hourly = 6, daily = 7 }\n\n" + LOCAL + (
            '\n[[backup.targets]]\nname = "second-site"\n'
            'repository = "rest:https://cantine@backup.example.test:8000/cantine/"\n'
            'password_file = "/etc/cantine/secrets/backup-second-site.password"\n'
            'rest_password_file = "/etc/cantine/secrets/backup-second-site.rest-password"\n'
            'ca_cert = "/etc/cantine/secrets/backup-second-site-ca.pem"\n'
            "append_only = true\n"))
        self.assertEqual(self.secrets(drop_in), {
            "/etc/cantine/secrets/backup-local.password": None,
            "/etc/cantine/secrets/backup-second-site.password": "repo-secret\n",
            "/etc/cantine/secrets/backup-second-site.rest-password": "http-secret\n",
            "/etc/cantine/secrets/backup-second-site-ca.pem": SECOND_SITE["ca_certificate"]})
        self.assertEqual(drop_in.summary, "local, second-site")

    def test_without_local_a_path_target_with_a_generated_password(self):
        nas = {"name": "nas", "repository": "/mnt/nas"}
        drop_in = seed.backup_drop_in({"backup": {"local": False, "targets": [nas]}})
        self.assertEqual(drop_in.text, HEADER + '[[backup.targets]]\nname = "nas"\nrepository = "/mnt/nas"\n'
                         'password_file = "/etc/cantine/secrets/backup-nas.password"\n')
        self.assertEqual(self.secrets(drop_in), {"/etc/cantine/secrets/backup-nas.password": None})

    def test_toml_strings_are_escaped(self):
        target = {"name": "odd", "repository": '/srv/a "quoted" path\\é'}
        drop_in = seed.backup_drop_in({"backup": {"local": False, "targets": [target]}})
        self.assertIn('repository = "/srv/a \\"quoted\\" path\\\\\\u00e9"\n', drop_in.text)

    def test_mistakes_are_refused_naming_the_setting(self):
        def targets(*t, **backup):
            return {"backup": {"targets": list(t), **backup}}
        rest = "rest:https://backup.example.test/"
        cases = {
            "backup target name 'Second_Site'": targets({"name": "Second_Site", "repository": rest}),
            "backup target name ''": targets({"repository": rest}),
            "backup target name 'local'": targets({"name": "local", "repository": rest}),
            "backup target name 'b'.*unique": targets({"name": "b", "repository": rest},
                                                      {"name": "b", "repository": "/b"}),
            "backup target b: repository": targets({"name": "b", "repository": "s3:https://s3.example.test/b"}),
            "backup target b: password is empty": targets({"name": "b", "repository": rest, "password": " "}),
            "backup.keep: unknown yearly": targets(keep={"daily": 7, "yearly": 1}),
            "backup.keep.daily 'a week'": targets(keep={"daily": "a week"}),
            "backup.keep.daily -1": targets(keep={"daily": -1}),
            "backup.keep must be a mapping": targets(keep=[7]),
            "backup.targets must be a list": {"backup": {"targets": {"name": "b", "repository": rest}}},
            "backup.targets must be a mapping": targets("rest:https://backup.example.test/"),
            "backup must be a mapping": {"backup": "rest:https://backup.example.test/"},
        }
        for message, cfg in cases.items():
            with self.subTest(message), self.assertRaisesRegex(seed.SeedError, message):
                seed.backup_drop_in(cfg)


class Mail(unittest.TestCase):
    RELAY = {"url": "smtp://cantine@mail.example.test:587", "password": "relay-secret",
             "from": " Cantine de Techniville <cantine@example.test> "}

    def test_relay_with_password_file_and_sender(self):
        drop_in = seed.mail_drop_in({"smtp": self.RELAY})
        self.assertEqual(str(drop_in.path), "/etc/cantine/cantine.toml.d/40-mail.toml")
        self.assertEqual(drop_in.text,
                         "# Written at first boot from the seed (cantine-firstboot-early).\n[mail]\n"
                         'smtp_url = "smtp://cantine@mail.example.test:587"\n'
                         'smtp_password_file = "/etc/cantine/secrets/smtp.password"\n'
                         'from = "Cantine de Techniville <cantine@example.test>"\n')
        self.assertEqual([(str(s.path), s.text) for s in drop_in.secrets],
                         [("/etc/cantine/secrets/smtp.password", "relay-secret\n")])
        self.assertEqual(drop_in.summary, "mail.example.test")

    def test_smtps_without_password_or_sender(self):
        drop_in = seed.mail_drop_in({"smtp": {"url": "smtps://mail.example.test"}})
        self.assertEqual(drop_in.text, "# Written at first boot from the seed (cantine-firstboot-early).\n"
                         '[mail]\nsmtp_url = "smtps://mail.example.test"\n')
        self.assertEqual(drop_in.secrets, [])

    def test_without_smtp_no_drop_in(self):
        self.assertIsNone(seed.mail_drop_in({}))
        self.assertIsNone(seed.mail_drop_in({"smtp": None}))

    def test_mistakes_are_refused_naming_the_setting(self):
        cases = {
            "smtp.url must be": [{"url": "https://mail.example.test"}, {"url": "smtp://"}, {"from": "a@b.test"},
                                 {"url": "smtp://cantine:secret@mail.example.test"}],
            "smtp.url: Port could not be cast": [{"url": "smtp://mail.example.test:submission"}],
            "smtp.from": [{"url": "smtp://mail.example.test", "from": "cantine"},
                          {"url": "smtp://mail.example.test", "from": "Cantine <a@b.test"}],
            "smtp must be a mapping": ["smtp://mail.example.test"],
        }
        for message, smtps in cases.items():
            for smtp in smtps:
                with self.subTest(smtp=smtp), self.assertRaisesRegex(seed.SeedError, message):
                    seed.mail_drop_in({"smtp": smtp})


class Payfip(unittest.TestCase):
    def test_kept_as_json(self):
        self.assertEqual(seed.payfip_json({"payfip": {"numcli": "012345"}}), '{\n  "numcli": "012345"\n}\n')
        self.assertIsNone(seed.payfip_json({}))

    def test_value_json_cannot_hold_is_refused(self):
        with self.assertRaisesRegex(seed.SeedError, "payfip"):
            seed.payfip_json({"payfip": {"since": {1, 2}}})


class Errors(unittest.TestCase):
    def test_seed_error_is_a_value_error(self):
        # firstboot-early catches ValueError around each part and reports it with problem()
        self.assertTrue(issubclass(seed.SeedError, ValueError))

    def test_firstboot_early_uses_only_what_seed_defines(self):
        # it runs only on the appliance: a renamed function would fail there, not here
        tree = ast.parse((CANTINE_IMAGE / "firstboot-early").read_text())
        used = {n.attr for n in ast.walk(tree)
                if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "seed"}
        self.assertTrue(used)
        self.assertEqual(sorted(u for u in used if not hasattr(seed, u)), [])


if __name__ == "__main__":
    unittest.main()
