#!/bin/bash
# TEST SCAFFOLDING (test/compose/standins/README.md): java on the Kafka jars, as Kafka's own script.
exec java ${KAFKA_HEAP_OPTS:--Xmx512m -Xms128m} -XX:+UseG1GC -Djava.awt.headless=true \
  -Dlog4j.configuration=file:/opt/kafka/bin/log4j.properties -cp '/opt/kafka/libs/*' "$@"
