"""Built-in name lists for the mock district: plausible, diverse, and entirely made up.

Each heritage group has its own first and last names so families read as families;
the weights in ETHNICITIES shape the district (many families are Spanish-speaking).
"""
from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate


@dataclass(frozen=True)
class Heritage:
    key: str
    female: tuple[str, ...]
    male: tuple[str, ...]
    surnames: tuple[str, ...]
    # (language, share of families speaking it at home)
    home_languages: tuple[tuple[str, float], ...] = ()


def _words(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


NEUTRAL = _words("Alex, Jordan, Taylor, River, Avery, Riley, Quinn, Rowan, Sage, Skyler, Jamie, Casey, Emerson, Phoenix")

HISPANIC = Heritage(
    "hispanic",
    _words(
        "Sofía, Isabella, Valentina, Camila, Mariana, Lucía, Ximena, Daniela, Gabriela, Natalia, "
        "Valeria, Ana, María, Guadalupe, Alejandra, Fernanda, Paola, Andrea, Jimena, Renata, "
        "Esperanza, Marisol, Yesenia, Leticia, Rosa, Carmen, Adriana, Luz"
    ),
    _words(
        "Mateo, Santiago, Diego, Sebastián, Alejandro, Emiliano, Leonardo, Daniel, José, Luis, "
        "Juan, Carlos, Miguel, Javier, Andrés, Jorge, Ricardo, Francisco, Eduardo, Manuel, "
        "Adrián, Ángel, Héctor, Rafael, Joaquín, Iván, Julio, Ramón"
    ),
    _words(
        "García, Rodríguez, Martínez, Hernández, López, González, Pérez, Sánchez, Ramírez, Torres, "
        "Flores, Rivera, Gómez, Díaz, Cruz, Morales, Reyes, Gutiérrez, Ortiz, Chávez, Ramos, "
        "Vargas, Castillo, Mendoza, Jiménez, Ruiz, Álvarez, Romero, Herrera, Medina, Aguilar, "
        "Vega, Castro, Delgado, Salazar, Guerrero, Navarro, Ríos, Cortez, Contreras, Estrada, "
        "Luna, Soto, Domínguez, Figueroa, Núñez, Ochoa, Villanueva, Espinoza, Fuentes"
    ),
    (("Spanish", 0.72),),
)

WHITE = Heritage(
    "white",
    _words(
        "Emma, Olivia, Ava, Charlotte, Amelia, Harper, Evelyn, Abigail, Emily, Elizabeth, Ella, "
        "Madison, Scarlett, Grace, Chloe, Hannah, Lily, Nora, Zoey, Hazel, Claire, Audrey, "
        "Sarah, Katherine, Molly, Megan"
    ),
    _words(
        "Liam, Noah, Oliver, James, William, Benjamin, Lucas, Henry, Alexander, Jack, Owen, "
        "Wyatt, Samuel, Ethan, Logan, Caleb, Nathan, Ryan, Connor, Tyler, Dylan, Nicholas, "
        "Christopher, Matthew, Andrew, Jacob"
    ),
    _words(
        "Smith, Johnson, Miller, Davis, Wilson, Anderson, Taylor, Thomas, Moore, Martin, "
        "Thompson, White, Clark, Lewis, Walker, Hall, Allen, Young, King, Wright, Scott, Hill, "
        "Green, Adams, Baker, Nelson, Carter, Mitchell, Roberts, Campbell, Parker, Evans, "
        "Edwards, Collins, Stewart, Murphy, Cook, Rogers, Morgan, Peterson, Cooper, Reed, "
        "Bailey, Bell, Kelly, Howard, Ward, Sullivan, O'Brien, Kowalski, Novak, Schmidt, "
        "Larson, Olson, Hansen, Petrov"
    ),
    (("Russian", 0.02), ("Ukrainian", 0.02)),
)

BLACK = Heritage(
    "black",
    _words(
        "Aaliyah, Imani, Jasmine, Nia, Maya, Zoe, Kennedy, Destiny, Brianna, Jada, Aniyah, "
        "Gabrielle, Amara, Kiara, Alicia, Nevaeh, Layla, Serenity, Janelle, Ayana, Fatima, Sabine"
    ),
    _words(
        "Jaylen, Malik, Elijah, Isaiah, Jordan, Xavier, Jamal, Darius, Marcus, Andre, Cameron, "
        "Josiah, Jalen, Terrence, Dominic, Kofi, Khalil, Micah, Tyrone, Dwayne, Abdirahman, Jean"
    ),
    _words(
        "Williams, Brown, Jackson, Jones, Harris, Robinson, Washington, Johnson, Bryant, "
        "Coleman, Jenkins, Simmons, Banks, Freeman, Gaines, Holmes, Okafor, Mensah, Diallo, "
        "Jean-Baptiste, Pierre, Toussaint, Abdi, Mohamed, Tesfaye, Haile, Boateng, Ellis"
    ),
    (("Haitian Creole", 0.04), ("Somali", 0.04), ("Amharic", 0.02)),
)

ASIAN = Heritage(
    "asian",
    _words(
        "Mei, Lina, Hana, Linh, Anh, Priya, Ananya, Ji-woo, Seo-yeon, Mia, Chloe, Grace, Emily, "
        "Aiko, Yuna, Isha, Thao, Jasmine, Angela, Ngoc, Ming, Divya"
    ),
    _words(
        "Minh, Bao, Wei, Jun, Kevin, Ryan, Daniel, Arjun, Rohan, Vikram, Hiroshi, Min-jun, "
        "Ethan, Jason, Tuan, Khoa, Aiden, Andrew, Eric, Justin, Haruto, Sanjay"
    ),
    _words(
        "Nguyen, Tran, Le, Pham, Hoang, Vu, Dang, Bui, Chen, Wang, Li, Zhang, Liu, Huang, Lin, "
        "Wu, Chan, Wong, Kim, Lee, Park, Choi, Jung, Kang, Santos, Bautista, Dela Cruz, "
        "Villanueva, Patel, Shah, Singh, Kumar, Gupta, Sharma, Khan, Rahman, Tanaka, Yamamoto"
    ),
    (("Vietnamese", 0.14), ("Chinese", 0.12), ("Korean", 0.06), ("Tagalog", 0.06), ("Hindi", 0.06)),
)

NATIVE = Heritage(
    "native",
    _words("Aiyana, Winona, Dakota, Tala, Nizhoni, Kimi, Emily, Grace, Sarah, Hannah"),
    _words("Dakota, Ahiga, Kai, Hok'ee, Tyler, Joseph, Samuel, Nathan, Elias, Aaron"),
    _words("Begay, Yazzie, Benally, Tsosie, Nez, Harjo, Tallchief, Whitehorse, Silversmith, Morningstar"),
    (("Navajo", 0.15),),
)

PACIFIC = Heritage(
    "pacific",
    _words("Leilani, Malia, Makana, Losa, Kaimana, Noelani, Sina, Ana"),
    _words("Keoni, Kai, Sione, Tevita, Makoa, Kainoa, Ioane, Pita"),
    _words("Kealoha, Kahananui, Fonoti, Tuilagi, Faleolo, Mahoe, Akana, Leota, Tupou, Fifita"),
    (("Samoan", 0.2), ("Tongan", 0.1)),
)

# (ethnicity as reported, heritage, share of families)
ETHNICITIES: tuple[tuple[str, Heritage | None, float], ...] = (
    ("Hispanic or Latino", HISPANIC, 0.40),
    ("White", WHITE, 0.27),
    ("Black or African American", BLACK, 0.17),
    ("Asian", ASIAN, 0.08),
    ("Two or more races", None, 0.06),
    ("American Indian or Alaska Native", NATIVE, 0.01),
    ("Native Hawaiian or Pacific Islander", PACIFIC, 0.01),
)
HERITAGES = (HISPANIC, WHITE, BLACK, ASIAN, NATIVE, PACIFIC)
_ETHNICITY_CHOICES = [(ethnicity, heritage) for ethnicity, heritage, _ in ETHNICITIES]
_ETHNICITY_CUM_WEIGHTS = list(accumulate(share for *_, share in ETHNICITIES))

NICKNAMES = {
    "Alexander": "Alex", "Alejandro": "Alex", "Benjamin": "Ben", "Elizabeth": "Liz",
    "Guadalupe": "Lupe", "Francisco": "Paco", "Katherine": "Katie", "Nicholas": "Nick",
    "Christopher": "Chris", "Matthew": "Matt", "Daniel": "Danny", "Gabriela": "Gaby",
    "Jonathan": "Jon", "Samuel": "Sam", "Valentina": "Vale", "Abigail": "Abby",
}

SCHOOL_NAMESAKES = _words(
    "Riverside, Oak Grove, Hillcrest, Lakeview, Maple Park, Cedar Park, Sunnyside, Westwood, "
    "Northview, Mission, Valley View, Brookside, Fairview, Pine Ridge, Willow Creek, Harbor, "
    "Parkside, Meadowbrook, Highland, Roosevelt, Lincoln, Washington, Jefferson, Kennedy, "
    "César Chávez, Dolores Huerta, Thurgood Marshall, Rosa Parks, Frederick Douglass, "
    "Sojourner Truth, Harriet Tubman, Mary McLeod Bethune, Ellen Ochoa, Sally Ride, "
    "Amelia Earhart, John Muir, Helen Keller, Martin Luther King Jr., Gabriela Mistral, "
    "Jackie Robinson, Roberto Clemente, Maya Angelou, Langston Hughes, Daniel Inouye, "
    "Fred Korematsu, Wilma Mankiller, Sequoyah, Grace Hopper, Katherine Johnson, "
    "Benjamin Franklin, Susan B. Anthony, Eleanor Roosevelt, Sonia Sotomayor, Ruby Bridges, Carl Sagan"
)
DIRECTIONS = ("", "North ", "South ", "East ", "West ", "Central ", "Upper ", "Lower ")


def school_name(index: int, offset: int, suffix: str) -> str:
    """The index-th school name of a level; levels start at different offsets so the
    first elementary, middle and high schools have different namesakes."""
    pool = len(SCHOOL_NAMESAKES)
    direction = DIRECTIONS[(index // pool) % len(DIRECTIONS)]
    cycle = index // (pool * len(DIRECTIONS))
    name = f"{direction}{SCHOOL_NAMESAKES[(index + offset) % pool]} {suffix}"
    return f"{name} {cycle + 1}" if cycle else name


def pick_heritage(rng: random.Random) -> tuple[str, Heritage, Heritage]:
    """(ethnicity, heritage of the surname, heritage of first names)."""
    ethnicity, heritage = rng.choices(_ETHNICITY_CHOICES, cum_weights=_ETHNICITY_CUM_WEIGHTS)[0]
    if heritage is None:
        first, second = rng.sample(HERITAGES[:4], 2)
        return ethnicity, first, second
    return ethnicity, heritage, heritage


def first_name(rng: random.Random, heritage: Heritage, gender: str) -> str:
    if gender == "nonbinary":
        return rng.choice(NEUTRAL)
    return rng.choice(heritage.female if gender == "female" else heritage.male)


def home_language(rng: random.Random, heritage: Heritage) -> str:
    roll = rng.random()
    for language, share in heritage.home_languages:
        if roll < share:
            return language
        roll -= share
    return "English"


@lru_cache(maxsize=None)
def email_local_part(*names: str) -> str:
    """ASCII, lowercase, dot-separated: 'José Núñez' -> 'jose.nunez'."""
    ascii_names = (unicodedata.normalize("NFKD", n).encode("ascii", "ignore").decode() for n in names)
    return ".".join(re.sub(r"[^a-z0-9]", "", n.lower()) for n in ascii_names)
