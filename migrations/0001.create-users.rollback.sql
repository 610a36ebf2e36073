DROP TABLE login_throttle;
DROP TABLE auth_sessions;
DROP TABLE users;
