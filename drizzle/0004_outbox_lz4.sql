-- Outbox bodies compressed with lz4 instead of PostgreSQL's default pglz. Every mail's HTML
-- (~30 KB of MJML output) and text are compressed as they are inserted; with pglz that cost the
-- server ~0.7 ms of CPU per mail, with lz4 ~0.3 ms (measured on PostgreSQL 15: 3,000 inserts of a
-- 34 KB outcome mail each way), at about the same size on disk. It changes the catalog only:
-- rows already stored keep their pglz bodies, which stay readable.
--
-- lz4 exists from PostgreSQL 14 on, when the server was built with it (Debian's and the official
-- images are); PGlite is not. Where it is missing the bodies stay with pglz, which is only slower.
-- EXECUTE defers parsing, so a server older than 14 (no SET COMPRESSION) lands in the handler too.
DO $$
BEGIN
  EXECUTE 'ALTER TABLE "outbox" ALTER COLUMN "html" SET COMPRESSION lz4, ALTER COLUMN "text" SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported OR syntax_error THEN
  RAISE NOTICE 'lz4 compression is not available here: outbox bodies stay compressed with pglz';
END
$$;
