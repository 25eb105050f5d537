#!/usr/bin/env python3
"""Packs a streamOptimized VMDK into an OVA: an OVF 1.0 descriptor (every namespace it uses
declared, the disk's real capacity), a SHA256 manifest, then the disk, in that order in a ustar
archive with fixed owners and times (SOURCE_DATE_EPOCH), so the OVA is reproducible."""
import argparse
import hashlib
import io
import os
import tarfile
from xml.sax.saxutils import escape

p = argparse.ArgumentParser()
p.add_argument("--name", required=True)
p.add_argument("--vmdk", required=True)
p.add_argument("--capacity", type=int, required=True, help="virtual disk size in bytes")
p.add_argument("--version", required=True)
p.add_argument("--out", required=True)
p.add_argument("--memory-mib", type=int, default=2048)
p.add_argument("--cpus", type=int, default=2)
a = p.parse_args()

mtime = int(os.environ["SOURCE_DATE_EPOCH"])
vmdk_name = os.path.basename(a.vmdk)
vmdk_size = os.path.getsize(a.vmdk)
name = escape(a.name)

PROPERTIES = [
    ("hostname", "Host name", "Short host name of the appliance", ""),
    ("public_url", "Public URL", "https://... address users reach the service at", ""),
    ("ssh_authorized_key", "Administrator SSH key", "Public key for the 'admin' account", ""),
    ("admin_networks", "Administration networks", "CIDRs allowed to SSH and the metrics port", ""),
    ("ip_address", "IPv4 address", "Static address with prefix, e.g. 192.168.10.20/24; empty for DHCP", ""),
    ("gateway", "IPv4 gateway", "Default gateway of the static address", ""),
    ("dns_servers", "DNS servers", "Name servers of the static address, separated by spaces", ""),
]
props = "\n".join(
    f'      <Property ovf:key="{k}" ovf:type="string" ovf:userConfigurable="true" ovf:value="{escape(v)}">\n'
    f"        <Label>{escape(label)}</Label>\n        <Description>{escape(desc)}</Description>\n      </Property>"
    for k, label, desc, v in PROPERTIES)

# vApp properties reach the guest only through the transport the hardware section declares:
# com.vmware.guestInfo (vCenter; the guest reads it with vmware-rpctool). Standalone ESXi and
# VirtualBox do not pass them: a NoCloud seed or the console wizard serves there.
ovf = f"""<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"
          xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
          xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common"
          xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
          xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
          xmlns:vmw="http://www.vmware.com/schema/ovf"
          xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
          ovf:version="1.0">
  <References>
    <File ovf:id="file1" ovf:href="{escape(vmdk_name)}" ovf:size="{vmdk_size}"/>
  </References>
  <DiskSection>
    <Info>Virtual disks</Info>
    <Disk ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:capacity="{a.capacity}" ovf:capacityAllocationUnits="byte"
          ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <NetworkSection>
    <Info>Logical networks</Info>
    <Network ovf:name="VM Network">
      <Description>The network users and administrators reach the appliance on</Description>
    </Network>
  </NetworkSection>
  <VirtualSystem ovf:id="{name}">
    <Info>Cantine school-canteen appliance (Debian 12, UEFI)</Info>
    <Name>{name}</Name>
    <ProductSection ovf:required="false">
      <Info>Settings read at first boot</Info>
      <Product>Cantine</Product>
      <Vendor>Cantine developers</Vendor>
      <Version>{escape(a.version)}</Version>
{props}
    </ProductSection>
    <OperatingSystemSection ovf:id="96" vmw:osType="debian12_64Guest">
      <Info>Guest operating system</Info>
      <Description>Debian GNU/Linux 12 (64-bit)</Description>
    </OperatingSystemSection>
    <VirtualHardwareSection ovf:transport="com.vmware.guestInfo">
      <Info>Virtual hardware requirements</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>{name}</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>vmx-14</vssd:VirtualSystemType>
      </System>
      <Item>
        <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>
        <rasd:Description>Number of virtual CPUs</rasd:Description>
        <rasd:ElementName>{a.cpus} virtual CPUs</rasd:ElementName>
        <rasd:InstanceID>1</rasd:InstanceID>
        <rasd:ResourceType>3</rasd:ResourceType>
        <rasd:VirtualQuantity>{a.cpus}</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>
        <rasd:Description>Memory size</rasd:Description>
        <rasd:ElementName>{a.memory_mib} MB of memory</rasd:ElementName>
        <rasd:InstanceID>2</rasd:InstanceID>
        <rasd:ResourceType>4</rasd:ResourceType>
        <rasd:VirtualQuantity>{a.memory_mib}</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:Address>0</rasd:Address>
        <rasd:Description>SCSI controller</rasd:Description>
        <rasd:ElementName>SCSI controller 0</rasd:ElementName>
        <rasd:InstanceID>3</rasd:InstanceID>
        <rasd:ResourceSubType>lsilogic</rasd:ResourceSubType>
        <rasd:ResourceType>6</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>0</rasd:AddressOnParent>
        <rasd:ElementName>Hard disk 1</rasd:ElementName>
        <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource>
        <rasd:InstanceID>4</rasd:InstanceID>
        <rasd:Parent>3</rasd:Parent>
        <rasd:ResourceType>17</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>
        <rasd:Connection>VM Network</rasd:Connection>
        <rasd:Description>E1000 ethernet adapter</rasd:Description>
        <rasd:ElementName>Network adapter 1</rasd:ElementName>
        <rasd:InstanceID>5</rasd:InstanceID>
        <rasd:ResourceSubType>E1000</rasd:ResourceSubType>
        <rasd:ResourceType>10</rasd:ResourceType>
      </Item>
      <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="efi"/>
      <vmw:Config ovf:required="false" vmw:key="uefi.secureBoot.enabled" vmw:value="true"/>
      <vmw:Config ovf:required="false" vmw:key="tools.syncTimeWithHost" vmw:value="false"/>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
""".encode()

ovf_name = f"{a.name}.ovf"
mf_name = f"{a.name}.mf"


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


mf = (f"SHA256({ovf_name})= {hashlib.sha256(ovf).hexdigest()}\n"
      f"SHA256({vmdk_name})= {sha256_file(a.vmdk)}\n").encode()


def info(n, size):
    t = tarfile.TarInfo(n)
    t.size, t.mtime, t.mode = size, mtime, 0o644
    t.uid = t.gid = 0
    t.uname = t.gname = ""
    return t


# OVF 1.0: the descriptor comes first, then the manifest, then the files in References order.
with tarfile.open(a.out, "w", format=tarfile.USTAR_FORMAT) as tar:
    tar.addfile(info(ovf_name, len(ovf)), io.BytesIO(ovf))
    tar.addfile(info(mf_name, len(mf)), io.BytesIO(mf))
    with open(a.vmdk, "rb") as f:
        tar.addfile(info(vmdk_name, vmdk_size), f)
