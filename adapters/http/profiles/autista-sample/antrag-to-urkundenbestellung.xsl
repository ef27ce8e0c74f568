<?xml version="1.0" encoding="UTF-8"?>
<!--
  SAMPLE ONLY - not an official AutiSta interface.

  Maps ozg-hub's generic application (ozg-antrag 1.0, urn:ozg-hub:schema:antrag:1.0) onto the
  sample certificate order urkundenbestellung-1.0.xsd. See README.md in this folder for the
  conventions it relies on; adapt it to the real interface of the Standesamt's software.

  The generic application has no structured field for the order, so the form puts it into
  `Anliegen` as one "Schluessel: Wert" line per field (keys are case-sensitive, one per line):

    Urkundenart: Geburtsurkunde | Eheurkunde | Lebenspartnerschaftsurkunde | Sterbeurkunde
    Anzahl: 2                       (optional, default 1)
    Verwendungszweck: ...
    Registernummer: G 123/2015      (optional)
    Ereignisdatum: 2019-06-14       (optional; YYYY-MM-DD or DD.MM.YYYY)
    Beziehung: Elternteil           (optional, default "selbst")
    Familienname: / Vornamen: / Geburtsname: / Geburtsdatum: / Geburtsort:
                                    the person the register entry concerns; when Familienname
                                    is missing, the applicant's own entry is meant

  Whatever is missing or malformed is left empty or passed through: the hub validates the
  output against the XSD and dead-letters an order that does not satisfy it.

  Parameters, set by ozg-hub's http adapter: case-number, received-at (UTC, ISO 8601),
  office-id, service-id, area-id.
-->
<xsl:stylesheet version="1.0"
                xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:a="urn:ozg-hub:schema:antrag:1.0"
                xmlns="urn:ozg-hub:sample:autista:urkundenbestellung:1.0"
                exclude-result-prefixes="a">

  <xsl:output method="xml" encoding="UTF-8" indent="yes"/>
  <xsl:strip-space elements="*"/>

  <xsl:param name="case-number"/>
  <xsl:param name="received-at"/>
  <xsl:param name="office-id"/>
  <xsl:param name="service-id"/>
  <xsl:param name="area-id"/>

  <!-- Anliegen with a line break on both ends and without carriage returns, so every field is
       found as "&#10;Key:" ... "&#10;". -->
  <xsl:variable name="anliegen"
                select="concat('&#10;', translate(/a:Antrag/a:Anliegen, '&#13;', ''), '&#10;')"/>

  <!-- The value of one "Key: value" line of Anliegen, white space normalised; empty if none. -->
  <xsl:template name="field">
    <xsl:param name="key"/>
    <xsl:variable name="marker" select="concat('&#10;', $key, ':')"/>
    <xsl:if test="contains($anliegen, $marker)">
      <xsl:value-of
          select="normalize-space(substring-before(substring-after($anliegen, $marker), '&#10;'))"/>
    </xsl:if>
  </xsl:template>

  <!-- DD.MM.YYYY becomes YYYY-MM-DD; anything else passes through for the XSD to judge. -->
  <xsl:template name="iso-date">
    <xsl:param name="value"/>
    <xsl:choose>
      <xsl:when test="string-length($value) = 10 and substring($value, 3, 1) = '.'
                      and substring($value, 6, 1) = '.'">
        <xsl:value-of select="concat(substring($value, 7, 4), '-', substring($value, 4, 2), '-',
                                     substring($value, 1, 2))"/>
      </xsl:when>
      <xsl:otherwise>
        <xsl:value-of select="$value"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="/a:Antrag">
    <xsl:variable name="urkundenart">
      <xsl:call-template name="field"><xsl:with-param name="key" select="'Urkundenart'"/></xsl:call-template>
    </xsl:variable>
    <xsl:variable name="anzahl">
      <xsl:call-template name="field"><xsl:with-param name="key" select="'Anzahl'"/></xsl:call-template>
    </xsl:variable>
    <xsl:variable name="zweck">
      <xsl:call-template name="field"><xsl:with-param name="key" select="'Verwendungszweck'"/></xsl:call-template>
    </xsl:variable>
    <xsl:variable name="registernummer">
      <xsl:call-template name="field"><xsl:with-param name="key" select="'Registernummer'"/></xsl:call-template>
    </xsl:variable>
    <xsl:variable name="ereignisdatum">
      <xsl:call-template name="field"><xsl:with-param name="key" select="'Ereignisdatum'"/></xsl:call-template>
    </xsl:variable>
    <xsl:variable name="beziehung">
      <xsl:call-template name="field"><xsl:with-param name="key" select="'Beziehung'"/></xsl:call-template>
    </xsl:variable>
    <xsl:variable name="familienname">
      <xsl:call-template name="field"><xsl:with-param name="key" select="'Familienname'"/></xsl:call-template>
    </xsl:variable>
    <xsl:variable name="a" select="a:Antragsteller"/>

    <Urkundenbestellung version="1.0">
      <Nachrichtenkopf>
        <Vorgangsnummer><xsl:value-of select="$case-number"/></Vorgangsnummer>
        <Eingangszeitpunkt><xsl:value-of select="$received-at"/></Eingangszeitpunkt>
        <Empfaenger><xsl:value-of select="$office-id"/></Empfaenger>
        <Leistung><xsl:value-of select="$service-id"/></Leistung>
        <Gebiet><xsl:value-of select="$area-id"/></Gebiet>
      </Nachrichtenkopf>

      <Bestellung>
        <Urkundenart><xsl:value-of select="$urkundenart"/></Urkundenart>
        <Anzahl>
          <xsl:choose>
            <xsl:when test="string($anzahl) != ''"><xsl:value-of select="$anzahl"/></xsl:when>
            <xsl:otherwise>1</xsl:otherwise>
          </xsl:choose>
        </Anzahl>
        <Verwendungszweck><xsl:value-of select="$zweck"/></Verwendungszweck>
        <xsl:if test="string($registernummer) != ''">
          <Registernummer><xsl:value-of select="$registernummer"/></Registernummer>
        </xsl:if>
        <xsl:if test="string($ereignisdatum) != ''">
          <Ereignisdatum>
            <xsl:call-template name="iso-date">
              <xsl:with-param name="value" select="string($ereignisdatum)"/>
            </xsl:call-template>
          </Ereignisdatum>
        </xsl:if>
        <BetroffenePerson>
          <xsl:choose>
            <xsl:when test="string($familienname) != ''">
              <xsl:variable name="vornamen">
                <xsl:call-template name="field"><xsl:with-param name="key" select="'Vornamen'"/></xsl:call-template>
              </xsl:variable>
              <xsl:variable name="geburtsname">
                <xsl:call-template name="field"><xsl:with-param name="key" select="'Geburtsname'"/></xsl:call-template>
              </xsl:variable>
              <xsl:variable name="geburtsdatum">
                <xsl:call-template name="field"><xsl:with-param name="key" select="'Geburtsdatum'"/></xsl:call-template>
              </xsl:variable>
              <xsl:variable name="geburtsort">
                <xsl:call-template name="field"><xsl:with-param name="key" select="'Geburtsort'"/></xsl:call-template>
              </xsl:variable>
              <Familienname><xsl:value-of select="$familienname"/></Familienname>
              <Vornamen><xsl:value-of select="$vornamen"/></Vornamen>
              <xsl:if test="string($geburtsname) != ''">
                <Geburtsname><xsl:value-of select="$geburtsname"/></Geburtsname>
              </xsl:if>
              <Geburtsdatum>
                <xsl:call-template name="iso-date">
                  <xsl:with-param name="value" select="string($geburtsdatum)"/>
                </xsl:call-template>
              </Geburtsdatum>
              <Geburtsort><xsl:value-of select="$geburtsort"/></Geburtsort>
            </xsl:when>
            <xsl:otherwise>
              <Familienname><xsl:value-of select="$a/a:Familienname"/></Familienname>
              <Vornamen><xsl:value-of select="$a/a:Vornamen"/></Vornamen>
              <xsl:if test="$a/a:Geburtsname">
                <Geburtsname><xsl:value-of select="$a/a:Geburtsname"/></Geburtsname>
              </xsl:if>
              <Geburtsdatum><xsl:value-of select="$a/a:Geburtsdatum"/></Geburtsdatum>
              <Geburtsort><xsl:value-of select="$a/a:Geburtsort"/></Geburtsort>
            </xsl:otherwise>
          </xsl:choose>
        </BetroffenePerson>
      </Bestellung>

      <Antragsteller>
        <Anrede><xsl:value-of select="$a/a:Anrede"/></Anrede>
        <Familienname><xsl:value-of select="$a/a:Familienname"/></Familienname>
        <Vornamen><xsl:value-of select="$a/a:Vornamen"/></Vornamen>
        <Geburtsdatum><xsl:value-of select="$a/a:Geburtsdatum"/></Geburtsdatum>
        <Beziehung>
          <xsl:choose>
            <xsl:when test="string($beziehung) != ''"><xsl:value-of select="$beziehung"/></xsl:when>
            <xsl:otherwise>selbst</xsl:otherwise>
          </xsl:choose>
        </Beziehung>
      </Antragsteller>

      <xsl:apply-templates select="a:Anschrift">
        <xsl:with-param name="name" select="concat($a/a:Vornamen, ' ', $a/a:Familienname)"/>
      </xsl:apply-templates>

      <Kontakt>
        <xsl:if test="a:Kontakt/a:EMail">
          <EMail><xsl:value-of select="a:Kontakt/a:EMail[1]"/></EMail>
        </xsl:if>
        <xsl:if test="a:Kontakt/a:Telefon | a:Kontakt/a:Mobiltelefon">
          <Telefon><xsl:value-of select="(a:Kontakt/a:Telefon | a:Kontakt/a:Mobiltelefon)[1]"/></Telefon>
        </xsl:if>
      </Kontakt>
    </Urkundenbestellung>
  </xsl:template>

  <xsl:template match="a:Anschrift">
    <xsl:param name="name"/>
    <Versandanschrift>
      <Name><xsl:value-of select="$name"/></Name>
      <Strasse><xsl:value-of select="a:Strasse"/></Strasse>
      <Hausnummer><xsl:value-of select="a:Hausnummer"/></Hausnummer>
      <xsl:if test="a:Adresszusatz">
        <Adresszusatz><xsl:value-of select="a:Adresszusatz"/></Adresszusatz>
      </xsl:if>
      <xsl:if test="a:Postleitzahl | a:PostleitzahlAusland">
        <Postleitzahl><xsl:value-of select="a:Postleitzahl | a:PostleitzahlAusland"/></Postleitzahl>
      </xsl:if>
      <Ort><xsl:value-of select="a:Ort"/></Ort>
      <Staat>
        <xsl:choose>
          <xsl:when test="a:Staat"><xsl:value-of select="a:Staat"/></xsl:when>
          <xsl:otherwise>Deutschland</xsl:otherwise>
        </xsl:choose>
      </Staat>
    </Versandanschrift>
  </xsl:template>

</xsl:stylesheet>
