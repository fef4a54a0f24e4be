/**
 * The bundled example organisation, used when no rules file exists so that `npm start` works on
 * a fresh machine. Kept as YAML text (not an object) so that it goes through exactly the same
 * validation as an admin's file.
 */
export const EXAMPLE_RULES_YAML = `# Mailgrant rules: the example organisation "Contoso".
organization:
  name: Contoso
  mailbox: licenses@contoso.example   # people write here; replies go to licenses+TOKEN@contoso.example
  locale: en                          # en | fr | zh-TW
retention: 12 months
ownRequestProcess:
  enabled: false
  message: "Ask on the IT portal."
  link: "https://intranet.contoso.example/software"
admins:
  - { email: dana@contoso.example, role: license-admin }   # global-admin | license-admin | user-admin
directory:
  users:
    - { email: dana@contoso.example, name: Dana Lee }
    - { email: alice@contoso.example, name: Alice Wong, locale: en }
    - { email: bob@contoso.example, name: Bob Smith }
    - { email: carol@contoso.example, name: Carol Jones }
    - { email: remi@contoso.example, name: Rémi Durand, locale: fr }
    - { email: mei@contoso.example, name: 林美玲, locale: zh-TW }
  groups:
    - { name: Visio Users, members: [alice@contoso.example] }
products:
  - id: visio-plan-2
    name: Visio Plan 2
    aliases: [visio, "Visio 方案 2"]
    seats: 10
    servicePlans: [visio-web, visio-desktop]
    approvers: [dana@contoso.example]
    securityGroup: Visio Users
  - { id: acme-diagrams, name: Acme Diagrams, vendor: Acme Corp, seats: 5, approvers: [dana@contoso.example] }
`;
