"""E-mail notifications: recipients, SMTP settings, the mail queue fed from the event outbox
(the SMTP side is soapgw.mail_out, run by ``soapgw dispatch``)."""
