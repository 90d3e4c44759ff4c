# language: de
Funktionalität: Checklistenpunkte: Nachweise, optionale Punkte, Erlass und wer abhaken darf
  Jeder Punkt einer Phase nennt die Rollen, die ihn abhaken dürfen, und ob er einen Nachweis
  braucht. Optionale Punkte halten kein Gate zu; manche Punkte dürfen die Rollen, die der Ablauf
  nennt, erlassen. Wird ein Punkt wieder geöffnet, verfallen die Freigaben seines Gates.

  Grundlage:
    Angenommen der Ablauf "workflows/kosi-lab.yaml"
    Und diese Personen:
      | Name            | Rollen         |
      | Jana Becker     | coordinator    |
      | Thomas Krüger   | administration |
      | Aylin Demir     | civil_society  |
      | Lena Vogt       | science        |
      | Markus Hoffmann | business       |
    Und "Jana Becker" hat die Initiative "Fahrradgaragen im Quartier" angelegt

  Szenario: Ein Punkt, der einen Nachweis braucht, wird ohne ihn abgelehnt
    Wenn "Thomas Krüger" "mandate_secured" abhakt
    Dann wird es abgelehnt wegen "evidence_required" für "mandate_secured"
    Wenn "Thomas Krüger" "mandate_secured" mit dem Nachweis "Beschluss Bezirksvertretung Elberfeld" abhakt
    Dann ist der Punkt "Auftrag/Mandat gesichert" erledigt

  Szenario: Der Fortschritt zählt die Pflichtpunkte der Phase
    Wenn "Jana Becker" "core_team_named" abhakt
    Und "Jana Becker" "Fragestellung vereinbart" mit dem Nachweis "Bürgerbudget-Vorschlag" abhakt
    Dann zeigt die Checkliste:
      | Punkt             | Status   |
      | core_team_named   | erledigt |
      | challenge_defined | erledigt |
      | mandate_secured   | offen    |
    Und der Fortschritt beträgt 33 Prozent

  Szenario: Optionale Punkte halten kein Gate zu
    Angenommen die Initiative hat die Phase "prototyping" erreicht
    Und alles, was "consolidate" braucht, ist erledigt
    Dann ist der Punkt "operating_model" offen
    Und der Punkt "learnings_shared" ist offen
    Und der Fortschritt beträgt 100 Prozent
    Und der Schritt "consolidate" ist möglich

  Szenario: Ein erlassener Punkt zählt als erledigt; erlassen dürfen nur die genannten Rollen
    Wenn "Jana Becker" "resources_clarified" mit der Begründung "Räume des Labors" erlässt
    Dann wird es abgelehnt wegen "role_missing"
    Wenn "Thomas Krüger" "resources_clarified" mit der Begründung "Räume des Labors" erlässt
    Dann ist der Punkt "resources_clarified" erlassen
    Und der Fortschritt beträgt 17 Prozent

  Szenario: Ein Punkt, den der Ablauf niemanden erlassen lässt, muss erledigt werden
    Wenn "Thomas Krüger" "mandate_secured" mit der Begründung "Hier nicht nötig" erlässt
    Dann wird es abgelehnt wegen "item_not_waivable" für "mandate_secured"
    Und der Punkt "mandate_secured" ist offen

  Szenariogrundriss: Nur die Rollen, die ein Punkt nennt, dürfen ihn abhaken
    Angenommen die Initiative hat die Phase "<Phase>" erreicht
    Wenn "<Person>" "<Punkt>" mit dem Nachweis "Protokoll" abhakt
    Dann wird es abgelehnt wegen "role_missing"
    Und der Punkt "<Punkt>" ist offen

    Beispiele:
      | Phase         | Punkt           | Person          |
      | initiation    | mandate_secured | Aylin Demir     |
      | co_creation   | test_plan       | Jana Becker     |
      | prototyping   | permits_cleared | Lena Vogt       |
      | consolidation | formal_decision | Jana Becker     |

  Szenario: Wird ein Punkt wieder geöffnet, verfallen die Freigaben seines Gates
    Angenommen alles, was "start_co_creation" braucht, ist erledigt
    Und der Schritt "start_co_creation" hat die Freigaben von "Verwaltung"
    Wenn "Jana Becker" "core_team_named" mit der Begründung "Das Kernteam hat sich geändert" wieder öffnet
    Dann ist der Punkt "core_team_named" offen
    Und der Schritt "start_co_creation" hat keine Freigaben
    Und der Schritt "start_co_creation" ist gesperrt durch genau:
      | Code             | Betrifft        |
      | item_open        | core_team_named |
      | approval_missing | administration  |

  Szenario: Wieder öffnen braucht eine Begründung
    Angenommen "Jana Becker" hat "core_team_named" abgehakt
    Wenn "Jana Becker" "core_team_named" wieder öffnet
    Dann wird es abgelehnt wegen "reason_required"
    Und der Punkt "core_team_named" ist erledigt

  Szenario: Die Revision liest alles und ändert nichts
    Angenommen "Renate Albers" mit der Rolle "auditor"
    Wenn "Renate Albers" "core_team_named" abhakt
    Dann wird es abgelehnt wegen "role_missing"
    Wenn "Renate Albers" "archive" mit der Begründung "Prüfbefund" auslöst
    Dann wird es abgelehnt wegen "role_missing"
    Und die Initiative ist in der Phase "initiation"
