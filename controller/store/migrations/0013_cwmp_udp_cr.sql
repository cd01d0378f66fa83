-- UDP connection requests (TR-069 Annex G, docs/tr069.md): a TR-069
-- device behind NAT reports, with STUN, the public address and port its
-- NAT keeps open for it (ManagementServer.UDPConnectionRequestAddress);
-- uspc-acs wakes such a device with a signed UDP datagram instead of an
-- HTTP request to its (unreachable) ConnectionRequestURL.
ALTER TABLE cwmp_devices ADD COLUMN udp_cr_address text;
