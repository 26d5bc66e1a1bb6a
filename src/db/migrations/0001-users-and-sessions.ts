import { type Kysely, sql } from 'kysely';
import { isSqlite } from '../dialect.js';

/** Users, their one session each, and the login-failure counters. */
export async function up(db: Kysely<unknown>): Promise<void> {
  const sqlite = isSqlite(db);

  await db.schema
    .createTable('users')
    .addColumn('id', 'integer', (col) =>
      sqlite ? col.primaryKey().autoIncrement() : col.primaryKey().generatedAlwaysAsIdentity(),
    )
    .addColumn('user_name', 'text', (col) => col.notNull())
    .addColumn('user_name_key', 'text', (col) => col.notNull().unique())
    .addColumn('player_name', 'text', (col) => col.notNull())
    .addColumn('player_name_key', 'text', (col) => col.notNull().unique())
    .addColumn('password_hash', 'text', (col) => col.notNull())
    .addColumn('level', 'integer', (col) => col.notNull().defaultTo(1))
    .addColumn('avatar', 'integer', (col) => col.notNull().defaultTo(1005))
    .addColumn('cur_exp', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('max_exp', 'integer', (col) => col.notNull().defaultTo(1000))
    .addColumn('rank', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('vip_level', 'integer', (col) => col.notNull().defaultTo(1))
    .addColumn('wins', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('losses', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('kills', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('deaths', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('assists', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('user_id', 'integer', (col) =>
      col.primaryKey().references('users.id').onDelete('cascade'),
    )
    .addColumn('session_id', 'uuid', (col) => col.notNull().unique())
    .addColumn('external_ip_address', 'text', (col) => col.notNull().defaultTo('0.0.0.0'))
    .addColumn('external_client_port', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('external_server_port', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('external_tv_port', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('internal_ip_address', 'text', (col) => col.notNull().defaultTo('0.0.0.0'))
    .addColumn('internal_client_port', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('internal_server_port', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('internal_tv_port', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('current_channel_server_index', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('current_channel_index', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('current_room_id', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .execute();

  // Master servers list who is in a channel or a room; the stale-session sweep
  // looks for old rows.
  await db.schema
    .createIndex('sessions_channel_idx')
    .on('sessions')
    .columns(['current_channel_server_index', 'current_channel_index', 'user_id'])
    .execute();
  await db.schema
    .createIndex('sessions_room_idx')
    .on('sessions')
    .columns(['current_room_id', 'user_id'])
    .execute();
  await db.schema.createIndex('sessions_updated_idx').on('sessions').column('updated_at').execute();

  await db.schema
    .createTable('login_failures')
    .addColumn('subject', 'text', (col) => col.primaryKey())
    .addColumn('failures', 'integer', (col) => col.notNull())
    .addColumn('window_start', 'timestamptz', (col) => col.notNull())
    .execute();

  if (!sqlite) await sql`analyze`.execute(db);
}

/** Drops everything `up` made. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('login_failures').execute();
  await db.schema.dropTable('sessions').execute();
  await db.schema.dropTable('users').execute();
}
