package org.sparkpolicy.examples

import java.awt.{BasicStroke, Color, Font, Graphics2D, RenderingHints}
import java.awt.image.BufferedImage
import java.io.File
import javax.imageio.ImageIO
import org.sparkpolicy.ml.model.{NodeTable, TreeNode}


/**
 * PNG figures drawn with Java2D (no plotting dependency); run with -Djava.awt.headless=true on a server.
 * `tree` draws a policy tree (splits with their test, leaves with arm and row count); `bars` draws value
 * panels with ±1.96·SE error bars.
 */
object Charts {
  /** One bar: its label, value, standard error, and whether to draw it in the accent colour. */
  final case class Bar(label: String, value: Double, se: Double, accent: Boolean = false)

  /** A panel of bars sharing one y axis. */
  final case class Panel(title: String, yLabel: String, bars: Seq[Bar])

  private val ArmColors = Seq(new Color(0x4C72B0), new Color(0xDD8452), new Color(0x55A868), new Color(0xC44E52), new Color(0x8172B3))

  private def canvas(w: Int, h: Int): (BufferedImage, Graphics2D) = {
    val img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB)
    val g = img.createGraphics()
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON)
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON)
    g.setColor(Color.WHITE)
    g.fillRect(0, 0, w, h)
    (img, g)
  }

  private def write(img: BufferedImage, file: File): Unit = {
    Option(file.getAbsoluteFile.getParentFile).foreach(_.mkdirs())
    if (!ImageIO.write(img, "png", file)) throw new IllegalStateException(s"no PNG writer for $file")
  }

  private def centered(g: Graphics2D, s: String, cx: Double, y: Double): Unit =
    g.drawString(s, (cx - g.getFontMetrics.stringWidth(s) / 2.0).toFloat, y.toFloat)

  /** The tree in heap layout: node k at level L sits at slot k − 2^L of 2^L equal columns. */
  def tree(table: NodeTable, featureNames: Seq[String], armLabels: Seq[String], title: String, file: File): Unit = {
    val depth = table.depth
    val leafSlots = 1 << depth
    val (boxW, boxH, rowH, top) = (176, 54, 110, 70)
    val w = math.max(900, leafSlots * (boxW + 16) + 40)
    val h = top + depth * rowH + boxH + 30
    val (img, g) = canvas(w, h)
    g.setColor(Color.BLACK)
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18))
    g.drawString(title, 20, 32)
    def center(id: Int): (Double, Double) = {
      val l = TreeNode.depthOf(id)
      val slots = 1 << l
      (20 + (id - slots + 0.5) * (w - 40).toDouble / slots, top + l * rowH.toDouble)
    }
    def fmt(v: Double) = BigDecimal(v).round(new java.math.MathContext(6)).bigDecimal.stripTrailingZeros.toPlainString
    g.setStroke(new BasicStroke(1.5f))
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12))
    table.nodes.filterNot(_.isLeaf).foreach { n =>
      val (x, y) = center(n.id)
      Seq(2 * n.id -> "yes", 2 * n.id + 1 -> "no").foreach { case (child, label) =>
        val (cx, cy) = center(child)
        g.setColor(Color.GRAY)
        g.drawLine(x.toInt, (y + boxH).toInt, cx.toInt, cy.toInt)
        g.setColor(Color.DARK_GRAY)
        centered(g, label, (x + cx) / 2 + (if (label == "yes") -14 else 14), (y + boxH + cy) / 2)
      }
    }
    table.nodes.foreach { n =>
      val (cx, y) = center(n.id)
      val x = cx - boxW / 2.0
      if (n.isLeaf) {
        val c = ArmColors(n.arm % ArmColors.size)
        g.setColor(new Color(c.getRed, c.getGreen, c.getBlue, 60))
        g.fillRoundRect(x.toInt, y.toInt, boxW, boxH, 14, 14)
        g.setColor(c)
        g.drawRoundRect(x.toInt, y.toInt, boxW, boxH, 14, 14)
        g.setColor(Color.BLACK)
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13))
        centered(g, armLabels(n.arm), cx, y + 22)
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12))
        centered(g, s"n = ${n.count}", cx, y + 42)
      } else {
        g.setColor(new Color(0xF2F2F2))
        g.fillRect(x.toInt, y.toInt, boxW, boxH)
        g.setColor(Color.DARK_GRAY)
        g.drawRect(x.toInt, y.toInt, boxW, boxH)
        g.setColor(Color.BLACK)
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13))
        centered(g, s"${featureNames(n.feature)} ≤ ${fmt(n.threshold)}", cx, y + 22)
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12))
        centered(g, s"n = ${n.count}, missing → ${if (n.missingLeft) "yes" else "no"}", cx, y + 42)
      }
    }
    g.dispose()
    write(img, file)
  }

  /** Round tick step near range/5: 1, 2 or 5 times a power of ten. */
  private def tickStep(range: Double): Double = {
    val raw = range / 5
    val p = math.pow(10, math.floor(math.log10(raw)))
    Seq(1.0, 2.0, 5.0, 10.0).map(_ * p).find(_ >= raw).get
  }

  /** Panels side by side; each bar with a ±1.96·SE error bar; the y range covers every interval and zero. */
  def bars(panels: Seq[Panel], title: String, file: File): Unit = {
    val (panelW, h, top, bottom, left) = (120 + 90 * panels.map(_.bars.size).max, 560, 70, 150, 80)
    val w = panels.size * panelW + 80 // room for the last rotated label
    val (img, g) = canvas(w, h)
    g.setColor(Color.BLACK)
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18))
    g.drawString(title, 20, 32)
    panels.zipWithIndex.foreach { case (p, pi) =>
      val x0 = 20 + pi * panelW + left
      val plotW = panelW - left - 20
      val plotH = h - top - bottom
      val lows = p.bars.map(b => b.value - 1.959963984540054 * b.se) :+ 0.0
      val highs = p.bars.map(b => b.value + 1.959963984540054 * b.se) :+ 0.0
      val step = tickStep(highs.max - lows.min)
      val (ymin, ymax) = (math.floor(lows.min / step) * step, math.ceil(highs.max / step) * step)
      def py(v: Double) = top + plotH * (ymax - v) / (ymax - ymin)
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14))
      g.setColor(Color.BLACK)
      centered(g, p.title, x0 + plotW / 2.0, top - 14)
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11))
      var t = ymin
      while (t <= ymax + step / 2) {
        g.setColor(new Color(0xE0E0E0))
        g.drawLine(x0, py(t).toInt, x0 + plotW, py(t).toInt)
        g.setColor(Color.DARK_GRAY)
        val s = if (step >= 1) f"$t%.0f" else BigDecimal(t).setScale(math.max(0, -math.floor(math.log10(step)).toInt), BigDecimal.RoundingMode.HALF_UP).toString
        g.drawString(s, x0 - 8 - g.getFontMetrics.stringWidth(s), py(t).toFloat + 4)
        t += step
      }
      g.setColor(Color.BLACK)
      g.drawLine(x0, top, x0, top + plotH)
      g.drawLine(x0, py(0).toInt, x0 + plotW, py(0).toInt)
      val rot = g.getTransform
      g.rotate(-math.Pi / 2)
      centered(g, p.yLabel, -(top + plotH / 2.0), x0 - 56)
      g.setTransform(rot)
      val slot = plotW.toDouble / p.bars.size
      p.bars.zipWithIndex.foreach { case (b, i) =>
        val cx = x0 + slot * (i + 0.5)
        val bw = slot * 0.6
        g.setColor(if (b.accent) new Color(0xDD8452) else new Color(0x4C72B0))
        val (y1, y2) = (py(math.max(0, b.value)), py(math.min(0, b.value)))
        g.fillRect((cx - bw / 2).toInt, y1.toInt, bw.toInt, math.max(1, (y2 - y1).toInt))
        g.setColor(Color.BLACK)
        g.setStroke(new BasicStroke(1.5f))
        val (lo, hi) = (py(b.value - 1.959963984540054 * b.se), py(b.value + 1.959963984540054 * b.se))
        g.drawLine(cx.toInt, hi.toInt, cx.toInt, lo.toInt)
        g.drawLine((cx - 8).toInt, hi.toInt, (cx + 8).toInt, hi.toInt)
        g.drawLine((cx - 8).toInt, lo.toInt, (cx + 8).toInt, lo.toInt)
        g.setStroke(new BasicStroke(1f))
        // Labels rotated under the axis, so long policy names fit.
        val at = g.getTransform
        g.translate(cx + 4, top + plotH + 10)
        g.rotate(math.Pi / 4)
        g.drawString(b.label, 0, 0)
        g.setTransform(at)
      }
    }
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11))
    g.setColor(Color.DARK_GRAY)
    g.drawString("error bars: ±1.96·SE (95% interval) on the holdout", 20, h - 10)
    g.dispose()
    write(img, file)
  }
}
