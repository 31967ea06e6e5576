-- Emails are no longer unique (registration must not reveal which emails have accounts) and no
-- longer sign anyone in.
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_email_key;
