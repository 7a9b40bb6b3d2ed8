#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, combined broker+controller) for tests, benchmarks and
# local runs, built from Maven Central artifacts with the machine's Java 17.
#   scripts/kafka-broker.sh start [PORT]   resolve jars (cached), format, start; prints bootstrap address
#   scripts/kafka-broker.sh stop [PORT]
#   scripts/kafka-broker.sh resume [PORT]  start a stopped broker again on its data (tests of broker outages)
# Jars are cached in ${FW_CACHE:-~/.cache/featurewatch}/kafka-<version>/libs between runs.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
pom="$here/test/kafka/pom.xml"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")"
cache="${FW_CACHE:-$HOME/.cache/featurewatch}/kafka-$version"
cmd="${1:-start}"
port="${2:-39092}"
cport=$((port + 1))
sport=$((port + 2))   # SASL_PLAINTEXT listener: PLAIN and SCRAM-SHA-256/512, user featurewatch / fw-secret
tport=$((port + 3))   # SSL listener: self-signed certificate for 127.0.0.1, CA in $run/ca.pem
run="${FW_KAFKA_RUN_DIR:-/tmp/featurewatch-kafka-$port}"

fetch() {
  if [ -f "$cache/libs/.complete" ]; then return; fi
  echo "resolving Apache Kafka $version from Maven Central into $cache/libs" >&2
  mkdir -p "$cache/libs"
  mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$cache/libs" >&2
  touch "$cache/libs/.complete"
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

case "$cmd" in
  start)
    fetch
    if listening "$port"; then echo "127.0.0.1:$port"; exit 0; fi
    rm -rf "$run" && mkdir -p "$run"
    keytool -genkeypair -alias broker -keyalg RSA -keysize 2048 -validity 3650 -dname "CN=localhost" \
      -ext "SAN=IP:127.0.0.1,DNS:localhost" -keystore "$run/broker.p12" -storetype PKCS12 \
      -storepass fw-tls-secret -keypass fw-tls-secret > "$run/keytool.log" 2>&1
    keytool -exportcert -alias broker -keystore "$run/broker.p12" -storepass fw-tls-secret -rfc -file "$run/ca.pem" >> "$run/keytool.log" 2>&1
    cat > "$run/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport,SASL_PLAINTEXT://127.0.0.1:$sport,SSL://127.0.0.1:$tport
advertised.listeners=PLAINTEXT://127.0.0.1:$port,SASL_PLAINTEXT://127.0.0.1:$sport,SSL://127.0.0.1:$tport
ssl.keystore.location=$run/broker.p12
ssl.keystore.type=PKCS12
ssl.keystore.password=fw-tls-secret
ssl.key.password=fw-tls-secret
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_featurewatch="fw-secret";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
log.dirs=$run/data
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
PROPS
    java -cp "$cache/libs/*" kafka.tools.StorageTool format -t "fw$(date +%s%N | sha256sum | head -c 20)" -c "$run/server.properties" \
      --add-scram 'SCRAM-SHA-256=[name=featurewatch,password=fw-secret]' \
      --add-scram 'SCRAM-SHA-512=[name=featurewatch,password=fw-secret]' > "$run/format.log" 2>&1
    nohup java -Xms256m -Xmx768m -XX:+UseG1GC -cp "$cache/libs/*" kafka.Kafka "$run/server.properties" > "$run/broker.log" 2>&1 &
    echo $! > "$run/pid"
    for _ in $(seq 1 120); do
      if listening "$port"; then echo "127.0.0.1:$port"; exit 0; fi
      if ! kill -0 "$(cat "$run/pid")" 2>/dev/null; then echo "broker exited; see $run/broker.log" >&2; tail -20 "$run/broker.log" >&2; exit 1; fi
      sleep 0.5
    done
    echo "broker did not listen on $port within 60 s; see $run/broker.log" >&2
    exit 1
    ;;
  stop)
    if [ -f "$run/pid" ]; then
      pid="$(cat "$run/pid")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      rm -f "$run/pid"
    fi
    ;;
  resume)
    if listening "$port"; then echo "127.0.0.1:$port"; exit 0; fi
    [ -f "$run/server.properties" ] || { echo "no stopped broker in $run" >&2; exit 1; }
    nohup java -Xms256m -Xmx768m -XX:+UseG1GC -cp "$cache/libs/*" kafka.Kafka "$run/server.properties" >> "$run/broker.log" 2>&1 &
    echo $! > "$run/pid"
    for _ in $(seq 1 120); do
      if listening "$port"; then echo "127.0.0.1:$port"; exit 0; fi
      sleep 0.5
    done
    echo "broker did not listen on $port within 60 s; see $run/broker.log" >&2
    exit 1
    ;;
  *) echo "usage: $0 start|stop|resume [PORT]" >&2; exit 2 ;;
esac
