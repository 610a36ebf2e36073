-- Invitations go; memberships made by accepting them stay.
DROP TABLE invitations;
