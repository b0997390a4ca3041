-- Nothing to do on PostgreSQL: the transactions that change what the groupfinder
-- answers call pg_notify('portcullis_principals', '<user id>' or '*'), delivered at
-- commit to every process LISTENing. The version is recorded so that both backends
-- keep the same numbering.
SELECT 1;
