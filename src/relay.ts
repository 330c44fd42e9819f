/**
 * `nestjs-hinted-handoff/relay`: the standalone InfluxDB 1.x write relay as a Nest app, for a
 * program that starts it itself. Needs the relay's optional peers: `@nestjs/platform-fastify`
 * and `@nestjs/config` (a clone's `npm install` has them; `npm start` runs `dist/main.js`).
 */
export { AppModule, createRelayApp } from './app.module';
