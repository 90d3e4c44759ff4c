Feature: A gate opens only when its phase is done
  The lab coordination moves an initiative on only when every required checklist item of its
  phase is done, the roles the gate names have signed it off and enough sectors take part.

  Background:
    Given the workflow "workflows/kosi-lab.yaml"
    And these people:
      | name            | roles          |
      | Jana Becker     | coordinator    |
      | Thomas Krüger   | administration |
      | Aylin Demir     | civil_society  |
      | Lena Vogt       | science        |
      | Markus Hoffmann | business       |
    And "Jana Becker" has started the initiative "Fahrradgaragen im Quartier"

  Scenario Outline: A gate stays shut while a required item of its phase is open
    Given the initiative has reached the phase "<phase>"
    When "Jana Becker" fires "<step>"
    Then it is refused because "item_open" for "<item>"
    And the initiative is in the phase "<phase>"

    Examples:
      | phase         | step              | item              |
      | initiation    | start_co_creation | challenge_defined |
      | co_creation   | start_prototyping | round_table_held  |
      | prototyping   | consolidate       | permits_cleared   |
      | consolidation | complete          | carrier_named     |

  Scenario Outline: A gate opens once its checklist, sign-offs and sectors are complete
    Given the initiative has reached the phase "<phase>"
    And everything "<step>" needs is done
    Then the step "<step>" is possible
    When "Jana Becker" fires "<step>"
    Then the initiative is in the phase "<next>"
    And no item of the phase is done

    Examples:
      | phase         | step              | next          |
      | initiation    | start_co_creation | co_creation   |
      | co_creation   | start_prototyping | prototyping   |
      | prototyping   | consolidate       | consolidation |
      | consolidation | complete          | completed     |

  Scenario Outline: A gate needs the sign-off of every role it names
    Given the initiative has reached the phase "<phase>"
    Then the step "<step>" is blocked by "approval_missing" for "<role>"
    When "<person>" signs off "<step>"
    Then the step "<step>" has the sign-offs of "<role>"

    Examples:
      | phase         | step              | role           | person        |
      | initiation    | start_co_creation | administration | Thomas Krüger |
      | co_creation   | start_prototyping | administration | Thomas Krüger |
      | co_creation   | start_prototyping | civil_society  | Aylin Demir   |
      | prototyping   | consolidate       | administration | Thomas Krüger |
      | consolidation | complete          | administration | Thomas Krüger |
      | consolidation | complete          | civil_society  | Aylin Demir   |

  Scenario: Prototyping needs both sign-offs; the administration's alone is not enough
    Given the initiative has reached the phase "co_creation"
    And every required item of the phase is ticked
    And "Thomas Krüger" has signed off "start_prototyping"
    When "Jana Becker" fires "start_prototyping"
    Then it is refused with exactly these reasons:
      | code             | subject       |
      | approval_missing | civil_society |
    And it is refused with the message "Sign-off by Civil society is missing."

  Scenario: Only the roles a gate names may sign it off
    Given the initiative has reached the phase "co_creation"
    When "Lena Vogt" signs off "start_prototyping"
    Then it is refused because "role_missing"
    When "Thomas Krüger" signs off "start_prototyping"
    And "Thomas Krüger" signs off "start_prototyping"
    Then it is refused because "already_approved" for "administration"

  Scenario: Co-creation starts only with participants from three sectors
    Given every required item of the phase is ticked
    And "Thomas Krüger" has signed off "start_co_creation"
    And "Jana Becker" has involved participants from the sectors "administration, civil_society"
    When "Jana Becker" fires "start_co_creation"
    Then it is refused with exactly these reasons:
      | code            | subject |
      | sectors_missing | 3       |
    When "Jana Becker" involves "Lena Vogt" for the sector "science"
    Then participants bring 3 sectors
    When "Jana Becker" fires "start_co_creation"
    Then the initiative is in the phase "co_creation"

  Scenario: Only the lab coordination fires a step
    Given everything "start_co_creation" needs is done
    When "Thomas Krüger" fires "start_co_creation"
    Then it is refused because "role_missing"
    And the initiative is in the phase "initiation"

  Scenario: A step that does not leave the current phase is refused, naming those that do
    When "Jana Becker" fires "consolidate"
    Then it is refused because "trigger_not_available" for "consolidate"
    When "Jana Becker" fires "start_cocreation"
    Then it is refused with the message "(did you mean 'start_co_creation'?)"
