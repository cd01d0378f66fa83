#!/usr/bin/env bash
# make-test-certs.sh DIR [AGENT_EID_1 [AGENT_EID_2]] — test PKI for TLS tests.
# Writes into DIR (created if needed), with the openssl command only:
#   ca.crt ca.key               a test CA (EC P-256, 1 day)
#   broker.crt broker.key       broker cert: CN=localhost, SAN DNS:localhost, IP:127.0.0.1
#   controller.crt controller.key  client cert, CN=$USPC_TEST_CONTROLLER_EID (default self::uspc)
#   agent1.crt agent1.key       client cert, CN=AGENT_EID_1 (default proto::agent-1)
#   agent2.crt agent2.key       client cert, CN=AGENT_EID_2 (default proto::agent-2)
# Each client cert also carries subjectAltName URI:urn:bbf:usp:id:<EID>
# (TR-369 R-SEC.3). Keys are mode 0600. For tests only: never deploy these.
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 DIR [AGENT_EID_1 [AGENT_EID_2]]" >&2
  exit 2
fi
dir=$1
agent1=${2:-proto::agent-1}
agent2=${3:-proto::agent-2}
controller=${USPC_TEST_CONTROLLER_EID:-self::uspc}
days=2
mkdir -p "$dir"
cd "$dir"
umask 077

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# sign NAME CN EXTFILE-CONTENT
sign() {
  local name=$1 cn=$2 ext=$3
  newkey "$name.key"
  openssl req -new -key "$name.key" -subj "/O=uspc test/CN=$cn" -out "$name.csr"
  printf '%s\n' "$ext" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
    -days "$days" -sha256 -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

newkey ca.key
openssl req -x509 -new -key ca.key -sha256 -days "$days" -subj "/O=uspc test/CN=uspc test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out ca.crt

sign broker localhost "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1"

client_ext() {
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\nsubjectAltName=URI:urn:bbf:usp:id:%s\n' "$1"
}
sign controller "$controller" "$(client_ext "$controller")"
sign agent1 "$agent1" "$(client_ext "$agent1")"
sign agent2 "$agent2" "$(client_ext "$agent2")"
rm -f ca.srl
# The broker may run as another user: certificates are public, keys stay 0600
# (tests that run mosquitto as a different user chmod what it needs).
chmod 0644 ca.crt broker.crt controller.crt agent1.crt agent2.crt
for c in broker controller agent1 agent2; do
  openssl verify -CAfile ca.crt "$c.crt" >/dev/null
done
echo "test certificates written to $dir"
