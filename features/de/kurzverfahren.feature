# language: de
Funktionalität: Ein Anliegen im Kurzverfahren schließt sich selbst ab
  Kleine Anliegen (eine Sitzbank aufstellen) laufen im Kurzverfahren: Sobald alle Pflichtpunkte
  der Umsetzung erledigt sind, ist das Anliegen erledigt, ohne dass jemand einen Schritt auslöst.

  Grundlage:
    Angenommen der Ablauf "workflows/light-track.yaml"
    Und diese Personen:
      | Name          | Rollen         |
      | Jana Becker   | coordinator    |
      | Thomas Krüger | administration |
      | Aylin Demir   | civil_society  |
    Und "Jana Becker" hat die Initiative "Sitzbank aufstellen" angelegt

  Szenario: Der letzte Pflichtpunkt schließt das Anliegen von selbst ab
    Angenommen die Initiative hat die Phase "Umsetzen" erreicht
    Wenn "Aylin Demir" "Maßnahme umgesetzt" abhakt
    Dann ist die Initiative in der Phase "implement"
    Wenn "Jana Becker" "feedback_given" abhakt
    Dann ist die Initiative in der Phase "Erledigt"
    Und das System hat "finish" selbst ausgelöst
    Und die Historie enthält in dieser Reihenfolge:
      | Ereignis     | von         | Punkt          | Schritt |
      | ItemTicked   | Jana Becker | feedback_given |         |
      | PhaseChanged | System      |                | finish  |
