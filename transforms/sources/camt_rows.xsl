<?xml version="1.0" encoding="UTF-8"?>
<!--
  camt.052 / 053 / 054 -> one text record per transaction detail (TxDtls), or per entry (Ntry) without details:
  the leaves that transforms/sources/camt.py maps. libxslt walks the tree in C, which is what makes the reader
  fast: the mapping itself is done on the columns in polars.

  camt.py fills in the message namespace (NS) and the container element (CONTAINER: Stmt, Rpt or Ntfctn).
  Fields end with U+E000, records with U+E001 and the values of a repeated leaf are separated by U+E002:
  private-use characters that bank data does not carry (camt.py checks the file first).
  Where the reader takes the first non-blank of several alternatives, an xsl:choose tries them in order (per row;
  cheaper than a union), and the statement's account, read once per container, uses a union in document order.
-->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:c="NS">
  <xsl:output method="text" encoding="UTF-8"/>

  <xsl:template match="/">
    <xsl:for-each select="*/*/c:CONTAINER">
      <!-- the statement's own account, once per container -->
      <xsl:variable name="acct" select="c:Acct[1]"/>
      <xsl:variable name="stmt" select="concat(string(c:Id), '&#xE000;', string(($acct/c:Id/c:IBAN | $acct/c:Id/c:Othr/c:Id | $acct/c:Id/c:PrtryAcct/c:Id | $acct/c:Id/c:BBAN | $acct/c:Id/c:UPIC)[normalize-space()][1]), '&#xE000;', string(($acct/c:Svcr/c:FinInstnId/c:BICFI | $acct/c:Svcr/c:FinInstnId/c:BIC | $acct/c:Svcr/c:FinInstnId/c:ClrSysMmbId/c:MmbId | $acct/c:Svcr/c:FinInstnId/c:Othr/c:Id)[normalize-space()][1]), '&#xE000;', string(($acct/c:Nm | $acct/c:Ownr/c:Nm | $acct/c:Ownr/c:Pty/c:Nm)[normalize-space()][1]), '&#xE000;')"/>
      <xsl:for-each select="c:Ntry">
        <xsl:variable name="details" select="c:NtryDtls/c:TxDtls"/>
        <xsl:choose>
          <xsl:when test="$details">
            <xsl:for-each select="$details">
              <xsl:value-of select="$stmt"/><xsl:apply-templates select="../.." mode="entry"/><xsl:value-of select="position()"/>&#xE000;<xsl:apply-templates select="." mode="detail"/>&#xE001;</xsl:for-each>
          </xsl:when>
          <xsl:when test="c:TxDtls">
            <xsl:for-each select="c:TxDtls">
              <xsl:value-of select="$stmt"/><xsl:apply-templates select=".." mode="entry"/><xsl:value-of select="position()"/>&#xE000;<xsl:apply-templates select="." mode="detail"/>&#xE001;</xsl:for-each>
          </xsl:when>
          <xsl:otherwise>
            <xsl:value-of select="$stmt"/><xsl:apply-templates select="." mode="entry"/>&#xE000;&#xE000;&#xE000;&#xE000;&#xE000;&#xE000;&#xE000;&#xE000;&#xE000;&#xE000;&#xE000;&#xE000;&#xE000;&#xE000;&#xE000;&#xE000;&#xE000;&#xE000;&#xE000;&#xE000;&#xE000;&#xE000;&#xE001;</xsl:otherwise>
        </xsl:choose>
      </xsl:for-each>
    </xsl:for-each>
  </xsl:template>

  <xsl:template match="*" mode="entry">
    <xsl:value-of select="c:Amt"/>&#xE000;<xsl:value-of select="c:Amt/@Ccy"/>&#xE000;<xsl:value-of select="c:CdtDbtInd"/>&#xE000;<xsl:choose><xsl:when test="c:Sts/c:Cd"><xsl:value-of select="c:Sts/c:Cd"/></xsl:when><xsl:otherwise><xsl:value-of select="c:Sts[not(*)]"/></xsl:otherwise></xsl:choose>&#xE000;<xsl:value-of select="c:BookgDt/c:DtTm"/>&#xE000;<xsl:value-of select="c:BookgDt/c:Dt"/>&#xE000;<xsl:value-of select="c:ValDt/c:Dt"/>&#xE000;<xsl:value-of select="c:ValDt/c:DtTm"/>&#xE000;<xsl:value-of select="c:RvslInd"/>&#xE000;<xsl:value-of select="c:AcctSvcrRef"/>&#xE000;<xsl:value-of select="c:BkTxCd/c:Domn/c:Cd"/>&#xE000;<xsl:value-of select="c:BkTxCd/c:Domn/c:Fmly/c:Cd"/>&#xE000;<xsl:value-of select="c:BkTxCd/c:Domn/c:Fmly/c:SubFmlyCd"/>&#xE000;<xsl:value-of select="c:BkTxCd/c:Prtry/c:Cd"/>&#xE000;<xsl:value-of select="c:AddtlNtryInf"/>&#xE000;</xsl:template>

  <xsl:template match="*" mode="detail">
    <xsl:value-of select="c:Amt"/>&#xE000;<xsl:value-of select="c:Amt/@Ccy"/>&#xE000;<xsl:value-of select="c:AmtDtls/c:TxAmt/c:Amt"/>&#xE000;<xsl:value-of select="c:AmtDtls/c:TxAmt/c:Amt/@Ccy"/>&#xE000;<xsl:value-of select="c:Refs/c:AcctSvcrRef"/>&#xE000;<xsl:value-of select="c:Refs/c:EndToEndId"/>&#xE000;<xsl:value-of select="c:Refs/c:UETR"/>&#xE000;<xsl:value-of select="c:Refs/c:TxId"/>&#xE000;<xsl:value-of select="c:BkTxCd/c:Domn/c:Cd"/>&#xE000;<xsl:value-of select="c:BkTxCd/c:Domn/c:Fmly/c:Cd"/>&#xE000;<xsl:value-of select="c:BkTxCd/c:Domn/c:Fmly/c:SubFmlyCd"/>&#xE000;<xsl:value-of select="c:BkTxCd/c:Prtry/c:Cd"/>&#xE000;<xsl:for-each select="c:RltdPties[1]">
      <xsl:choose><xsl:when test="c:CdtrAcct/c:Id/c:IBAN[normalize-space()]"><xsl:value-of select="c:CdtrAcct/c:Id/c:IBAN[normalize-space()]"/></xsl:when><xsl:when test="c:CdtrAcct/c:Id/c:Othr/c:Id[normalize-space()]"><xsl:value-of select="c:CdtrAcct/c:Id/c:Othr/c:Id[normalize-space()]"/></xsl:when><xsl:when test="c:CdtrAcct/c:Id/c:PrtryAcct/c:Id[normalize-space()]"><xsl:value-of select="c:CdtrAcct/c:Id/c:PrtryAcct/c:Id[normalize-space()]"/></xsl:when><xsl:when test="c:CdtrAcct/c:Id/c:BBAN[normalize-space()]"><xsl:value-of select="c:CdtrAcct/c:Id/c:BBAN[normalize-space()]"/></xsl:when><xsl:when test="c:CdtrAcct/c:Id/c:UPIC[normalize-space()]"><xsl:value-of select="c:CdtrAcct/c:Id/c:UPIC[normalize-space()]"/></xsl:when></xsl:choose>&#xE000;<xsl:choose><xsl:when test="c:DbtrAcct/c:Id/c:IBAN[normalize-space()]"><xsl:value-of select="c:DbtrAcct/c:Id/c:IBAN[normalize-space()]"/></xsl:when><xsl:when test="c:DbtrAcct/c:Id/c:Othr/c:Id[normalize-space()]"><xsl:value-of select="c:DbtrAcct/c:Id/c:Othr/c:Id[normalize-space()]"/></xsl:when><xsl:when test="c:DbtrAcct/c:Id/c:PrtryAcct/c:Id[normalize-space()]"><xsl:value-of select="c:DbtrAcct/c:Id/c:PrtryAcct/c:Id[normalize-space()]"/></xsl:when><xsl:when test="c:DbtrAcct/c:Id/c:BBAN[normalize-space()]"><xsl:value-of select="c:DbtrAcct/c:Id/c:BBAN[normalize-space()]"/></xsl:when><xsl:when test="c:DbtrAcct/c:Id/c:UPIC[normalize-space()]"><xsl:value-of select="c:DbtrAcct/c:Id/c:UPIC[normalize-space()]"/></xsl:when></xsl:choose>&#xE000;<xsl:choose><xsl:when test="c:Cdtr/c:Nm[normalize-space()]"><xsl:value-of select="c:Cdtr/c:Nm[normalize-space()]"/></xsl:when><xsl:when test="c:Cdtr/c:Pty/c:Nm[normalize-space()]"><xsl:value-of select="c:Cdtr/c:Pty/c:Nm[normalize-space()]"/></xsl:when><xsl:when test="c:UltmtCdtr/c:Nm[normalize-space()]"><xsl:value-of select="c:UltmtCdtr/c:Nm[normalize-space()]"/></xsl:when><xsl:when test="c:UltmtCdtr/c:Pty/c:Nm[normalize-space()]"><xsl:value-of select="c:UltmtCdtr/c:Pty/c:Nm[normalize-space()]"/></xsl:when></xsl:choose>&#xE000;<xsl:choose><xsl:when test="c:Dbtr/c:Nm[normalize-space()]"><xsl:value-of select="c:Dbtr/c:Nm[normalize-space()]"/></xsl:when><xsl:when test="c:Dbtr/c:Pty/c:Nm[normalize-space()]"><xsl:value-of select="c:Dbtr/c:Pty/c:Nm[normalize-space()]"/></xsl:when><xsl:when test="c:UltmtDbtr/c:Nm[normalize-space()]"><xsl:value-of select="c:UltmtDbtr/c:Nm[normalize-space()]"/></xsl:when><xsl:when test="c:UltmtDbtr/c:Pty/c:Nm[normalize-space()]"><xsl:value-of select="c:UltmtDbtr/c:Pty/c:Nm[normalize-space()]"/></xsl:when></xsl:choose>&#xE000;</xsl:for-each>
    <xsl:if test="not(c:RltdPties)">&#xE000;&#xE000;&#xE000;&#xE000;</xsl:if>
    <xsl:choose><xsl:when test="c:RltdAgts/c:CdtrAgt/c:FinInstnId/c:BICFI[normalize-space()]"><xsl:value-of select="c:RltdAgts/c:CdtrAgt/c:FinInstnId/c:BICFI[normalize-space()]"/></xsl:when><xsl:when test="c:RltdAgts/c:CdtrAgt/c:FinInstnId/c:BIC[normalize-space()]"><xsl:value-of select="c:RltdAgts/c:CdtrAgt/c:FinInstnId/c:BIC[normalize-space()]"/></xsl:when><xsl:when test="c:RltdAgts/c:CdtrAgt/c:FinInstnId/c:ClrSysMmbId/c:MmbId[normalize-space()]"><xsl:value-of select="c:RltdAgts/c:CdtrAgt/c:FinInstnId/c:ClrSysMmbId/c:MmbId[normalize-space()]"/></xsl:when><xsl:when test="c:RltdAgts/c:CdtrAgt/c:FinInstnId/c:Othr/c:Id[normalize-space()]"><xsl:value-of select="c:RltdAgts/c:CdtrAgt/c:FinInstnId/c:Othr/c:Id[normalize-space()]"/></xsl:when></xsl:choose>&#xE000;<xsl:choose><xsl:when test="c:RltdAgts/c:DbtrAgt/c:FinInstnId/c:BICFI[normalize-space()]"><xsl:value-of select="c:RltdAgts/c:DbtrAgt/c:FinInstnId/c:BICFI[normalize-space()]"/></xsl:when><xsl:when test="c:RltdAgts/c:DbtrAgt/c:FinInstnId/c:BIC[normalize-space()]"><xsl:value-of select="c:RltdAgts/c:DbtrAgt/c:FinInstnId/c:BIC[normalize-space()]"/></xsl:when><xsl:when test="c:RltdAgts/c:DbtrAgt/c:FinInstnId/c:ClrSysMmbId/c:MmbId[normalize-space()]"><xsl:value-of select="c:RltdAgts/c:DbtrAgt/c:FinInstnId/c:ClrSysMmbId/c:MmbId[normalize-space()]"/></xsl:when><xsl:when test="c:RltdAgts/c:DbtrAgt/c:FinInstnId/c:Othr/c:Id[normalize-space()]"><xsl:value-of select="c:RltdAgts/c:DbtrAgt/c:FinInstnId/c:Othr/c:Id[normalize-space()]"/></xsl:when></xsl:choose>&#xE000;<xsl:for-each select="c:RmtInf/c:Ustrd"><xsl:value-of select="."/>&#xE002;</xsl:for-each>&#xE000;<xsl:for-each select="c:RmtInf/c:Strd/c:CdtrRefInf/c:Ref"><xsl:value-of select="."/>&#xE002;</xsl:for-each>&#xE000;<xsl:for-each select="c:RmtInf/c:Strd/c:AddtlRmtInf"><xsl:value-of select="."/>&#xE002;</xsl:for-each>&#xE000;<xsl:value-of select="c:AddtlTxInf"/></xsl:template>
</xsl:stylesheet>
