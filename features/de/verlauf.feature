# language: de
Funktionalität: Überarbeiten, Pausieren, Archivieren und zwei Koordinierende zugleich
  Scheitert die Erprobung, geht die Arbeit für einen neuen Besuch zurück in die Ko-Kreation;
  eine Initiative kann pausiert und fortgesetzt und aus jeder Phase archiviert werden. Handeln
  zwei Koordinierende gleichzeitig auf derselben Version, gewinnt genau eine Person.

  Grundlage:
    Angenommen der Ablauf "workflows/kosi-lab.yaml"
    Und diese Personen:
      | Name            | Rollen         |
      | Jana Becker     | coordinator    |
      | Sven Richter    | coordinator    |
      | Thomas Krüger   | administration |
      | Aylin Demir     | civil_society  |
      | Lena Vogt       | science        |
      | Markus Hoffmann | business       |
    Und "Jana Becker" hat die Initiative "Fahrradgaragen im Quartier" angelegt

  Szenario: Überarbeiten braucht eine Begründung und beginnt einen neuen Besuch der Ko-Kreation
    Angenommen die Initiative hat die Phase "Prototyping/Erprobung" erreicht
    Wenn "Jana Becker" "Überarbeiten" auslöst
    Dann wird es abgelehnt wegen "reason_required"
    Wenn "Jana Becker" "Überarbeiten" mit der Begründung "Standort und Preis passen nicht zur Nachfrage" auslöst
    Dann ist die Initiative in der Phase "Ko-Kreation"
    Und das ist der 2. Besuch der Phase
    Und kein Punkt der Phase ist erledigt
    Und der Schritt "start_prototyping" hat keine Freigaben
    Und die Phase "co_creation" wurde 2-mal besucht

  Szenario: Pausiert bewegt sich nichts außer Fortsetzen, Notizen und Archivieren
    Wenn "Jana Becker" die Initiative mit der Begründung "Warten auf den Ratsbeschluss zum Mehrwegsystem" pausiert
    Dann ist die Initiative pausiert
    Wenn "Jana Becker" "core_team_named" abhakt
    Dann wird es abgelehnt wegen "on_hold"
    Wenn "Aylin Demir" die Notiz "Der Rat entscheidet im Mai" hinzufügt
    Und "Jana Becker" die Initiative fortsetzt
    Dann ist die Initiative nicht pausiert
    Wenn "Jana Becker" "core_team_named" abhakt
    Dann ist der Punkt "core_team_named" erledigt

  Szenario: Nur die Lab-Koordination pausiert eine Initiative, und nur mit Begründung
    Wenn "Thomas Krüger" die Initiative mit der Begründung "Haushaltssperre" pausiert
    Dann wird es abgelehnt wegen "role_missing"
    Wenn "Jana Becker" die Initiative pausiert
    Dann wird es abgelehnt wegen "reason_required"
    Wenn "Jana Becker" die Initiative fortsetzt
    Dann wird es abgelehnt wegen "not_on_hold"

  Szenariogrundriss: Eine Initiative wird aus jeder Phase archiviert, mit Begründung
    Angenommen die Initiative hat die Phase "<Phase>" erreicht
    Wenn "Jana Becker" "archive" auslöst
    Dann wird es abgelehnt wegen "reason_required"
    Wenn "Jana Becker" "archive" mit der Begründung "Das Labor hat die Initiative beendet" auslöst
    Dann ist die Initiative in der Phase "Archiviert"

    Beispiele:
      | Phase         |
      | initiation    |
      | co_creation   |
      | prototyping   |
      | consolidation |

  Szenario: Auch pausiert kann archiviert werden, danach ändert sich nichts mehr
    Angenommen "Jana Becker" hat die Initiative mit der Begründung "Keine Anschlussfinanzierung" pausiert
    Wenn "Jana Becker" "archive" mit der Begründung "Keine Anschlussfinanzierung" auslöst
    Dann ist die Initiative in der Phase "archived"
    Wenn "Jana Becker" "core_team_named" abhakt
    Dann wird es abgelehnt wegen "ended"

  Szenario: Zwei Koordinierende lösen gleichzeitig aus: eine Person gewinnt, die andere erhält einen Konflikt
    Angenommen alles, was "start_co_creation" braucht, ist erledigt
    Wenn "Jana Becker" und "Sven Richter" gleichzeitig "start_co_creation" auslösen
    Dann gewinnt einer von beiden und der andere erhält einen Konflikt
    Und die Initiative ist in der Phase "co_creation"
    Und die Historie hat 12 Ereignisse
