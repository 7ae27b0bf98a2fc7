import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The single row holding the last seq and hash; appenders lock it, so appends are serialized. */
@Entity({ name: 'chain_head' })
export class ChainHeadEntity {
  @PrimaryColumn({ type: 'smallint' })
  id!: number;

  @Column({ type: 'bigint' })
  seq!: string;

  @Column({ type: 'text' })
  hash!: string;
}

/** A signed head of the chain: Ed25519 over `${seq}:${hash}`. */
@Entity({ name: 'checkpoints' })
export class CheckpointEntity {
  @PrimaryColumn({ type: 'bigint' })
  seq!: string;

  @Column({ type: 'text' })
  hash!: string;

  @Column({ type: 'text' })
  signature!: string;

  @Column({ name: 'key_id', type: 'text' })
  keyId!: string;

  @Column({ name: 'public_key', type: 'text' })
  publicKey!: string;

  @Column({ name: 'created_at', type: 'timestamptz', insert: false })
  createdAt!: Date;
}
