/*
 * store_migrations.h — the embedded migration table (generated at build
 * time from migrations/NNNN_name.sql by cmake/embed_sql.cmake). Read-only
 * data; used by store_schema.c only.
 */
#ifndef USPC_STORE_MIGRATIONS_H
#define USPC_STORE_MIGRATIONS_H

struct store_migration {
	int version;      /* 1, 2, 3 ... in order */
	const char *name; /* file name without .sql */
	const char *sql;  /* the file's text */
};

extern const struct store_migration store_migrations[];
extern const int store_migration_count;

#endif
