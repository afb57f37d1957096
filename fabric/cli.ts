/**
 * `npm run fabric -- start|stop|status` (also the `diaspora-fabric` bin).
 * stdout carries only the path of fabric.json (start, status), so scripts can capture it;
 * progress and errors go to stderr.
 */
import { fabricStatus, startFabric, stopFabric } from './fabric';

const usage = `usage: npm run fabric -- start|stop|status

  start   start the local fabric (Kafka broker, Globus Auth and Diaspora service emulators),
          wait until every part answers, write fabric.json and print its path
  stop    stop what start started (by PID) and remove fabric.json
  status  print running/stopped; exit code 1 when stopped

environment:
  DIASPORA_FABRIC_DIR        fabric folder (default <repo>/.fabric)
  DIASPORA_FABRIC_PORT_BASE  first of five ports: service, auth, kafka, controller, kafka TLS (default 19090)
  DIASPORA_KEY_DELAY_MS      delay before a new key works on the broker (default 2000)
  DIASPORA_FABRIC_TLS=1      also open a SASL_SSL listener with a private CA
  KAFKA_VERSION              broker version (default 3.9.2); KAFKA_JAVA_HOME picks the Java`;

function info(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case 'start': {
      const result = await startFabric({ log: info });
      if (result.alreadyRunning) {
        info('The fabric is already running.');
      } else {
        info(`Fabric ready in ${(result.elapsedMs / 1000).toFixed(1)} s: service ${result.description.serviceUrl}, auth ${result.description.authUrl}, Kafka ${result.description.brokers.join(',')}`);
      }
      process.stdout.write(`${result.file}\n`);
      return 0;
    }
    case 'stop': {
      const stopped = await stopFabric();
      info(stopped ? 'Fabric stopped.' : 'The fabric was not running.');
      return 0;
    }
    case 'status': {
      const status = await fabricStatus();
      if (status.running) {
        process.stdout.write(`running ${status.file}\n`);
        return 0;
      }
      const parts = Object.entries(status.parts).map(([name, up]) => `${name} ${up ? 'up' : 'down'}`).join(', ');
      process.stdout.write(`stopped${status.description ? ` (${parts})` : ''}\n`);
      return 1;
    }
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${usage}\n`);
      return 0;
    default:
      info(command ? `Unknown command "${command}".\n${usage}` : usage);
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    info(`fabric: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
