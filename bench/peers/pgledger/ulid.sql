-- uuid_to_ulid(uuid): the 128 bits of a UUID as a 26-character ULID (Crockford's
-- base32, two leading zero bits). pgledger.sql calls it for every id it makes; upstream
-- takes it from scoville/pgsql-ulid, which pgledger vendors. This is the bench's own
-- stand-in, written here from the ULID specification: one SQL expression per id.
CREATE FUNCTION uuid_to_ulid(id uuid) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ',
                             substring(v.b FROM i * 5 + 1 FOR 5)::integer + 1, 1), ''
                      ORDER BY i)
    FROM (SELECT B'00' || ('x' || encode(uuid_send(id), 'hex'))::bit(128) AS b) AS v,
         generate_series(0, 25) AS i
$$;
