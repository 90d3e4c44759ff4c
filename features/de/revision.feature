# language: de
Funktionalität: Was die Revision in der Historie sieht
  Jeder angenommene Befehl ist ein Ereignis in der Historie der Initiative, mit Person und
  Begründung; ein abgelehnter Befehl hinterlässt keine Spur. Die Ereignisse sind per Hash verkettet.

  Grundlage:
    Angenommen der Ablauf "workflows/kosi-lab.yaml"
    Und diese Personen:
      | Name            | Rollen         |
      | Jana Becker     | coordinator    |
      | Thomas Krüger   | administration |
      | Aylin Demir     | civil_society  |
      | Lena Vogt       | science        |
      | Markus Hoffmann | business       |
      | Renate Albers   | auditor        |
    Und "Jana Becker" hat die Initiative "Fahrradgaragen im Quartier" angelegt

  Szenario: Jeder Befehl steht mit der Person, die ihn gab, in der Historie
    Angenommen "Thomas Krüger" hat "mandate_secured" mit dem Nachweis "Beschluss Bezirksvertretung" abgehakt
    Und "Jana Becker" hat "core_team_named" abgehakt
    Wenn "Jana Becker" "core_team_named" mit der Begründung "Das Kernteam hat sich geändert" wieder öffnet
    Und "Aylin Demir" die Notiz "Anwohnende wünschen einen zweiten Standort" hinzufügt
    Dann enthält die Historie in dieser Reihenfolge:
      | Ereignis          | von           | Punkt           | Grund                          |
      | InitiativeCreated | Jana Becker   |                 |                                |
      | ItemTicked        | Thomas Krüger | mandate_secured |                                |
      | ItemTicked        | Jana Becker   | core_team_named |                                |
      | ItemReopened      | Jana Becker   | core_team_named | Das Kernteam hat sich geändert |
      | NoteAdded         | Aylin Demir   |                 |                                |
    Und die Historie hat 5 Ereignisse
    Und die Hash-Kette der Historie ist intakt

  Szenario: Ein abgelehnter Befehl hinterlässt keine Spur
    Wenn "Jana Becker" "start_co_creation" auslöst
    Dann wird es abgelehnt wegen "item_open"
    Und die Historie hat 1 Ereignis

  Szenario: Überarbeiten steht mit Begründung in der Historie, die Phasenbesuche zeigen es
    Angenommen die Initiative hat die Phase "prototyping" erreicht
    Wenn "Jana Becker" "rework" mit der Begründung "Geringe Auslastung am ersten Standort" auslöst
    Dann enthält die Historie in dieser Reihenfolge:
      | Ereignis     | von         | Schritt           | Ziel        | Grund                                 |
      | PhaseChanged | Jana Becker | start_co_creation | co_creation |                                       |
      | PhaseChanged | Jana Becker | start_prototyping | prototyping |                                       |
      | PhaseChanged | Jana Becker | rework            | co_creation | Geringe Auslastung am ersten Standort |
    Und die Phase "co_creation" wurde 2-mal besucht
    Und die Phase "prototyping" wurde 1-mal besucht
